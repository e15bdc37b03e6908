/**
 * unknown-service: a service name the program cannot resolve, per format (firewalld services and
 * port names, sshd, iptables, nft, ufw), firing and staying silent; its messageId and data; and the
 * "Use NAME" fixes, each compared on the whole edited file.
 */
import * as assert from 'assert';
import { closeNames, editDistance, looksLikeServiceName } from '../../server/src/core/serviceNames';
import type { Finding } from '../../server/src/core/types';
import { applyEdits, engineWith } from '../helpers/engine';

const FIREWALLD_CONF = { 'etc/firewalld/firewalld.conf': 'DefaultZone=public\n' };
const zone = (body: string) => `<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <short>Public</short>\n${body}</zone>\n`;
const rules = (line: string) => `*filter\n:INPUT DROP [0:0]\n${line}\nCOMMIT\n`;
const nft = (rule: string) => `table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ${rule}\n  }\n}\n`;
const userRules = (tuple: string, aLine: string) =>
  `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### ${tuple}\n${aLine}\n\n### END RULES ###\nCOMMIT\n`;

/** Every finding of the workspace, by file relative to /ws. */
function findings(files: Record<string, string>): (Finding & { rel: string; text: string })[] {
  const out: (Finding & { rel: string; text: string })[] = [];
  for (const [file, list] of engineWith(files).analyze().findingsByFile)
    for (const f of list) {
      const rel = file.slice('/ws/'.length);
      out.push({ ...f, rel, text: files[rel].slice(f.span.start, f.span.end) });
    }
  return out;
}

const codes = (files: Record<string, string>) =>
  findings(files)
    .filter((f) => f.code === 'unknown-service' || f.code === 'invalid-port')
    .map((f) => [f.code, f.text]);

interface Case {
  name: string;
  file: string;
  fires: string;
  silent: string;
  extra?: Record<string, string>;
  /** The text the finding covers, its messageId, program and protocol. */
  covers: string;
  messageId: 'port-name' | 'firewalld-service';
  program: string;
  protocol?: string;
}

const CASES: Case[] = [
  {
    name: 'firewalld <service> neither stock nor in the workspace',
    file: 'etc/firewalld/zones/public.xml',
    fires: zone('  <service name="postgres"/>\n'),
    silent: zone('  <service name="postgresql"/>\n'),
    extra: FIREWALLD_CONF,
    covers: 'postgres',
    messageId: 'firewalld-service',
    program: 'firewalld',
  },
  {
    name: 'firewalld <service> defined in the workspace',
    file: 'etc/firewalld/zones/public.xml',
    fires: zone('  <service name="myapp"/>\n'),
    silent: zone('  <service name="myapp"/>\n'),
    extra: FIREWALLD_CONF,
    covers: 'myapp',
    messageId: 'firewalld-service',
    program: 'firewalld',
  },
  {
    name: 'firewalld <port> written as a name /etc/services does not know',
    file: 'etc/firewalld/zones/public.xml',
    fires: zone('  <port port="postgress" protocol="tcp"/>\n'),
    silent: zone('  <port port="postgres" protocol="tcp"/>\n'),
    extra: FIREWALLD_CONF,
    covers: 'postgress',
    messageId: 'port-name',
    program: 'firewalld',
    protocol: 'tcp',
  },
  {
    name: 'sshd Port',
    file: 'etc/ssh/sshd_config',
    fires: 'Port SSH\n',
    silent: 'Port ssh\n',
    covers: 'SSH',
    messageId: 'port-name',
    program: 'sshd',
    protocol: 'tcp',
  },
  {
    name: 'sshd ListenAddress host:port',
    file: 'etc/ssh/sshd_config',
    fires: 'ListenAddress 127.0.0.1:htps\n',
    silent: 'ListenAddress 127.0.0.1:https\n',
    covers: 'htps',
    messageId: 'port-name',
    program: 'sshd',
    protocol: 'tcp',
  },
  {
    name: 'sshd Match LocalPort',
    file: 'etc/ssh/sshd_config',
    fires: 'Port 22\nMatch LocalPort sshh\n  PasswordAuthentication no\n',
    silent: 'Port 22\nMatch LocalPort ssh\n  PasswordAuthentication no\n',
    covers: 'sshh',
    messageId: 'port-name',
    program: 'sshd',
    protocol: 'tcp',
  },
  {
    name: 'iptables --dport',
    file: 'etc/iptables/rules.v4',
    fires: rules('-A INPUT -p tcp --dport postgress -j ACCEPT'),
    silent: rules('-A INPUT -p tcp --dport postgres -j ACCEPT'),
    covers: 'postgress',
    messageId: 'port-name',
    program: 'iptables-restore',
    protocol: 'tcp',
  },
  {
    name: 'iptables multiport',
    file: 'etc/iptables/rules.v4',
    fires: rules('-A INPUT -p tcp -m multiport --dports 22,htps -j ACCEPT'),
    silent: rules('-A INPUT -p tcp -m multiport --dports 22,https -j ACCEPT'),
    covers: 'htps',
    messageId: 'port-name',
    program: 'iptables-restore',
    protocol: 'tcp',
  },
  {
    name: 'nft dport',
    file: 'etc/nftables.conf',
    fires: nft('tcp dport postgress accept'),
    silent: nft('tcp dport postgresql accept'),
    covers: 'postgress',
    messageId: 'port-name',
    program: 'nft',
  },
  {
    name: 'ufw tuple',
    file: 'etc/ufw/user.rules',
    fires: userRules('allow tcp sshh 0.0.0.0/0 any 0.0.0.0/0 in', '-A ufw-user-input -p tcp --dport 22 -j ACCEPT'),
    silent: userRules('allow tcp ssh 0.0.0.0/0 any 0.0.0.0/0 in', '-A ufw-user-input -p tcp --dport 22 -j ACCEPT'),
    covers: 'sshh',
    messageId: 'port-name',
    program: 'ufw',
  },
];

describe('unknown-service', () => {
  for (const c of CASES) {
    it(`${c.name}: fires on the name, with its messageId and data; silent on a known name`, () => {
      const fired = findings({ ...c.extra, [c.file]: c.fires }).filter((f) => f.code === 'unknown-service');
      assert.deepStrictEqual(
        fired.map((f) => [f.rel, f.text, f.severity, f.messageId, f.data]),
        [[c.file, c.covers, 'error', c.messageId, { service: c.covers, program: c.program, ...(c.protocol ? { protocol: c.protocol } : {}) }]],
      );
      const silentExtra: Record<string, string> = c.name.includes('defined in the workspace')
        ? { 'etc/firewalld/services/myapp.xml': '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <port port="9000" protocol="tcp"/>\n</service>\n' }
        : {};
      assert.deepStrictEqual(codes({ ...c.extra, ...silentExtra, [c.file]: c.silent }), []);
    });
  }

  it('a bad number stays invalid-port: sshd 70000 and 22a, iptables 70000, nft 70000', () => {
    assert.deepStrictEqual(codes({ 'etc/ssh/sshd_config': 'Port 70000\nPort 22a\n' }), [
      ['invalid-port', '70000'],
      ['invalid-port', '22a'],
    ]);
    assert.deepStrictEqual(codes({ 'etc/iptables/rules.v4': rules('-A INPUT -p tcp --dport 70000 -j ACCEPT') }), [['invalid-port', '70000']]);
    assert.deepStrictEqual(codes({ 'etc/nftables.conf': nft('tcp dport 70000 accept') }), [['invalid-port', '70000']]);
  });

  it('names are case-sensitive as getservbyname compares them: iptables SSH and nft Ssh are unknown', () => {
    assert.deepStrictEqual(codes({ 'etc/iptables/rules.v4': rules('-A INPUT -p tcp --dport SSH -j ACCEPT') }), [['unknown-service', 'SSH']]);
    assert.deepStrictEqual(codes({ 'etc/nftables.conf': nft('tcp dport Ssh accept') }), [['unknown-service', 'Ssh']]);
  });
});

describe('unknown-service: the "Use NAME" fixes', () => {
  /** The fixes of the one unknown-service finding, each as [title, preferred, the whole edited file]. */
  function fixed(files: Record<string, string>, file: string): [string, boolean, string][] {
    const [f] = findings(files).filter((x) => x.code === 'unknown-service');
    assert.ok(f, 'an unknown-service finding');
    return (f.fixes ?? []).map((x) => {
      assert.ok(x.edits.every((e) => e.file === `/ws/${file}`));
      return [x.title, x.preferred === true, applyEdits(files[file], x.edits)];
    });
  }

  it('firewalld postgres: one close stock service, postgresql, preferred', () => {
    const file = 'etc/firewalld/zones/public.xml';
    assert.deepStrictEqual(fixed({ ...FIREWALLD_CONF, [file]: zone('  <service name="postgres"/>\n  <service name="ssh"/>\n') }, file), [
      ['Use postgresql', true, zone('  <service name="postgresql"/>\n  <service name="ssh"/>\n')],
    ]);
  });

  it('firewalld: a workspace service is a candidate too', () => {
    const file = 'etc/firewalld/zones/public.xml';
    const svc = '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <port port="9000" protocol="tcp"/>\n</service>\n';
    assert.deepStrictEqual(fixed({ ...FIREWALLD_CONF, 'etc/firewalld/services/shopapi.xml': svc, [file]: zone('  <service name="shopap"/>\n') }, file), [
      ['Use shopapi', true, zone('  <service name="shopapi"/>\n')],
    ]);
  });

  it('sshd Port SSH: ssh (the case fixed), preferred', () => {
    assert.deepStrictEqual(fixed({ 'etc/ssh/sshd_config': 'Port SSH\nPermitRootLogin no\n' }, 'etc/ssh/sshd_config'), [
      ['Use ssh', true, 'Port ssh\nPermitRootLogin no\n'],
    ]);
  });

  it('iptables postgress: postgres and postgresql are one port, so one fix, preferred', () => {
    const file = 'etc/iptables/rules.v4';
    assert.deepStrictEqual(fixed({ [file]: rules('-A INPUT -p tcp --dport postgress -j ACCEPT') }, file), [
      ['Use postgres', true, rules('-A INPUT -p tcp --dport postgres -j ACCEPT')],
    ]);
  });

  it('iptables multiport: only the name inside the list is rewritten', () => {
    const file = 'etc/iptables/rules.v4';
    assert.deepStrictEqual(fixed({ [file]: rules('-A INPUT -p tcp -m multiport --dports 22,telent,8080 -j ACCEPT') }, file), [
      ['Use telnet', true, rules('-A INPUT -p tcp -m multiport --dports 22,telnet,8080 -j ACCEPT')],
    ]);
  });

  it('ufw: the tuple and its -A line misspelled alike get one "Use NAME" that rewrites both; an -A line written otherwise keeps its own', () => {
    const file = 'etc/ufw/user.rules';
    const text = (tupleName: string, lineName: string) =>
      userRules(`allow tcp 80,${tupleName} 0.0.0.0/0 any 0.0.0.0/0 in`, `-A ufw-user-input -p tcp -m multiport --dports 80,${lineName} -j ACCEPT`);
    const both = findings({ [file]: text('sshh', 'sshh') }).filter((x) => x.code === 'unknown-service');
    assert.strictEqual(both.length, 2);
    for (const f of both)
      assert.deepStrictEqual(
        (f.fixes ?? []).map((x) => [x.title, x.preferred === true, applyEdits(text('sshh', 'sshh'), x.edits)]),
        [['Use ssh', true, text('ssh', 'ssh')]],
      );
    const apart = findings({ [file]: text('sshh', 'sshd') }).filter((x) => x.code === 'unknown-service');
    assert.deepStrictEqual(
      apart.map((f) => (f.fixes ?? []).map((x) => applyEdits(text('sshh', 'sshd'), x.edits))),
      [[text('ssh', 'sshd')], [text('sshh', 'ssh')]],
    );
  });

  it('nft: several close names of different ports (imap2 143, imaps 993): all offered, none preferred', () => {
    const file = 'etc/nftables.conf';
    assert.deepStrictEqual(fixed({ [file]: nft('tcp dport imap2s accept') }, file), [
      ['Use imap2', false, nft('tcp dport imap2 accept')],
      ['Use imaps', false, nft('tcp dport imaps accept')],
    ]);
  });

  it('no fix when nothing is close', () => {
    const [f] = findings({ 'etc/ssh/sshd_config': 'Port zzqqxx\n' }).filter((x) => x.code === 'unknown-service');
    assert.strictEqual(f.fixes, undefined);
  });
});

describe('serviceNames: distance and closeness', () => {
  it('edit distance ignores case', () => {
    assert.strictEqual(editDistance('SSH', 'ssh'), 0);
    assert.strictEqual(editDistance('postgres', 'postgresql'), 2);
    assert.strictEqual(editDistance('kitten', 'sitting'), 3);
  });
  it('close names: within reach or the name with a short tail, closest first, aliases once', () => {
    assert.deepStrictEqual(closeNames('postgres', ['postgresql', 'mysql', 'ssh']), ['postgresql']);
    assert.deepStrictEqual(closeNames('htp', ['http', 'ftp', 'ssh', 'https']), ['ftp', 'http']);
    assert.deepStrictEqual(closeNames('ab', ['ac', 'AB']), ['AB']);
    assert.deepStrictEqual(
      closeNames('postgress', ['postgres', 'postgresql'], () => '5432'),
      ['postgres'],
    );
  });
  it('a name starts with a letter', () => {
    assert.ok(looksLikeServiceName('http-alt'));
    assert.ok(!looksLikeServiceName('22a'));
    assert.ok(!looksLikeServiceName('80-90'));
  });
});
