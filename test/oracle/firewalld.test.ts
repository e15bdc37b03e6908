/**
 * Oracle: firewalld 1.3's `firewall-offline-cmd` judges our reading of firewalld configuration.
 * What it prints is the expected answer:
 * - zones (the corpus zones and generated ones, each copied into a system-config directory of the
 *   test's own): `--zone=Z --list-all` shows the ports, services, source-ports and forward-ports we
 *   read; when firewalld refuses the zone (ERROR, or `--check-config` reports a configuration error,
 *   or a rich rule is skipped with a WARNING about an invalid port or protocol), we report an error;
 *   when it does not, we report none;
 * - services: our generated data/firewalld-services.json equals `--info-service=NAME` for a sample of
 *   the stock services, and our reading of the corpus's service files (as the host's own
 *   services/*.xml) equals `--info-service` on them.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { createFirewalldModules, parseServiceSyntax, type FirewalldExtra } from '../../server/src/formats/firewalld';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { Engine } from '../../server/src/core/engine';
import { createFormatModules } from '../../server/src/formats/index';
import { RULES } from '../../server/src/rules/index';
import type { PortRange } from '../../server/src/core/types';

const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'firewall', 'firewalld');

interface ZoneCase {
  name: string;
  zone: string;
  text: string;
  services?: Record<string, string>;
}

/**
 * Cases where we knowingly differ from firewalld, and why. A known case that starts agreeing fails,
 * so this list cannot go stale.
 */
const KNOWN: Record<string, string> = {};

const zone = (body: string, attrs = '') => `<?xml version="1.0" encoding="utf-8"?>\n<zone${attrs}>\n  <short>Test</short>\n${body}</zone>\n`;

function generatedZones(): ZoneCase[] {
  const cases: ZoneCase[] = [];
  const add = (name: string, body: string, attrs = '', services?: Record<string, string>) =>
    cases.push({ name, zone: 'gen', text: zone(body, attrs), services });
  for (const p of [
    '8080',
    '0',
    '65535',
    '65536',
    '70000',
    '60000-61000',
    '61000-60000',
    '10-10',
    'http',
    'ssh',
    'nosuchsvc',
    '1-2-3',
    '',
    ' 80',
    'http-alt',
    '80-http',
  ]) {
    add(`port "${p}"`, `  <port port="${p}" protocol="tcp"/>\n`);
  }
  for (const proto of ['udp', 'sctp', 'dccp', 'TCP', 'tcpx', 'icmp']) add(`protocol "${proto}"`, `  <port port="5000" protocol="${proto}"/>\n`);
  add('port without protocol', '  <port port="80"/>\n');
  add('services, stock and unknown', '  <service name="ssh"/>\n  <service name="https"/>\n  <service name="nosuch"/>\n');
  add('services that include others', '  <service name="samba"/>\n  <service name="freeipa-4"/>\n');
  add('workspace service overrides stock', '  <service name="ssh"/>\n  <service name="myapp"/>\n', '', {
    ssh: '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <short>SSH on 2222</short>\n  <port port="2222" protocol="tcp"/>\n</service>\n',
    myapp:
      '<?xml version="1.0" encoding="utf-8"?>\n<service>\n  <short>My app</short>\n  <port port="9000-9010" protocol="tcp"/>\n  <port port="9000" protocol="udp"/>\n  <include service="http"/>\n</service>\n',
  });
  add(
    'forward ports',
    '  <forward-port port="8443" protocol="tcp" to-port="443" to-addr="10.0.0.2"/>\n  <forward-port port="2222" protocol="tcp" to-port="22"/>\n  <forward-port port="5353" protocol="udp" to-addr="10.0.0.3"/>\n',
  );
  add('forward port out of range', '  <forward-port port="8443" protocol="tcp" to-port="99999"/>\n');
  add('source ports', '  <source-port port="53" protocol="udp"/>\n  <source-port port="1024-2048" protocol="tcp"/>\n');
  add(
    'rich rules',
    '  <rule family="ipv4"><source address="10.0.0.0/8"/><port port="5432" protocol="tcp"/><accept/></rule>\n  <rule><service name="http"/><reject/></rule>\n  <rule priority="-5"><port port="23" protocol="tcp"/><drop/></rule>\n',
  );
  add('rich rule with a bad port', '  <rule><port port="99999" protocol="tcp"/><accept/></rule>\n  <port port="22" protocol="tcp"/>\n');
  add('rich rule with a bad protocol', '  <rule><port port="80" protocol="tcpx"/><accept/></rule>\n');
  add('rich rule with a reversed range', '  <rule><port port="80-70" protocol="tcp"/><accept/></rule>\n');
  add('target DROP', '  <port port="22" protocol="tcp"/>\n', ' target="DROP"');
  add('target REJECT (not a zone target)', '', ' target="REJECT"');
  add('target %%REJECT%%', '', ' target="%%REJECT%%"');
  add('unknown element', '  <bogus/>\n');
  add('unknown attribute', '  <port port="22" protocol="tcp" comment="x"/>\n');
  add('not well-formed', '  <port port="22" protocol="tcp">\n');
  add('interfaces and sources', '  <interface name="eth0"/>\n  <source address="192.168.0.0/16"/>\n  <service name="ssh"/>\n');
  return cases;
}

interface ListAll {
  services: string[];
  ports: string[];
  sourcePorts: string[];
  forwardPorts: string[];
}

function parseListAll(out: string): ListAll {
  const field = (name: string) => (new RegExp(`^\\s+${name}: ?(.*)$`, 'm').exec(out)?.[1] ?? '').split(/\s+/).filter(Boolean).sort();
  const fwd = /^\s+forward-ports: ?\n((?:\t.*\n?)*)/m.exec(out)?.[1] ?? '';
  return {
    services: field('services'),
    ports: field('ports'),
    sourcePorts: field('source-ports'),
    forwardPorts: fwd
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort(),
  };
}

const rangeStr = (r: PortRange) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`);

describe('firewalld against firewall-offline-cmd 1.3 (oracle)', function () {
  this.timeout(240000);
  let cmd = '';
  let tmp = '';
  const registry = loadRegistry();
  const stock = loadFirewalldServices();
  const [zoneModule] = createFirewalldModules(stock, (n) => registry.serviceToPort(n));

  before(function () {
    cmd = requireProgram(this, ['firewall-offline-cmd', '/usr/bin/firewall-offline-cmd'], 'firewalld');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('firewall-offline-cmd needs root (CI runs as root)');
      console.log('      skipped: firewall-offline-cmd needs root');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-firewalld-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh system-config directory with the given zones and services. */
  function systemConfig(zones: Record<string, string>, services: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'cfg-'));
    fs.mkdirSync(path.join(dir, 'zones'));
    fs.mkdirSync(path.join(dir, 'services'));
    fs.writeFileSync(path.join(dir, 'firewalld.conf'), 'DefaultZone=public\n');
    for (const [name, text] of Object.entries(zones)) fs.writeFileSync(path.join(dir, 'zones', `${name}.xml`), text);
    for (const [name, text] of Object.entries(services)) fs.writeFileSync(path.join(dir, 'services', `${name}.xml`), text);
    return dir;
  }

  const REFUSED = /Failed to load user configuration|Configuration error|WARNING: (INVALID_\w+|PARSE_ERROR)|Error: PARSE_ERROR|INVALID_ZONE/;

  /**
   * firewalld's verdict and listing for each case. Each zone is listed in a directory of its own (a
   * refused zone makes firewalld fall back to the stock configuration); `--check-config`, which alone
   * finds unknown services, runs once over all zones that list cleanly and share no custom services,
   * dropping each zone it names until it passes.
   */
  function firewalldVerdicts(cases: ZoneCase[]): Map<ZoneCase, { refused: boolean; output: string; listing: string }> {
    const out = new Map<ZoneCase, { refused: boolean; output: string; listing: string }>();
    const batch: ZoneCase[] = [];
    for (const c of cases) {
      const dir = systemConfig({ [c.zone]: c.text }, c.services);
      const list = run(cmd, [`--system-config=${dir}`, `--zone=${c.zone}`, '--list-all']);
      const output = list.stdout + list.stderr;
      const refused = REFUSED.test(output) || list.status !== 0;
      out.set(c, { refused, output, listing: list.stdout });
      if (refused) continue;
      if (c.services) {
        const check = run(cmd, [`--system-config=${dir}`, '--check-config']);
        if (REFUSED.test(check.stdout + check.stderr)) out.set(c, { refused: true, output: check.stdout + check.stderr, listing: '' });
      } else batch.push(c);
    }
    const names = new Map(batch.map((c, i) => [`z${i}`, c]));
    for (let round = 0; round < 20 && names.size > 0; round++) {
      const dir = systemConfig(Object.fromEntries([...names].map(([n, c]) => [n, c.text])));
      const check = run(cmd, [`--system-config=${dir}`, '--check-config']);
      const text = check.stdout + check.stderr;
      if (!REFUSED.test(text)) break;
      const named = /Zone '([^']+)'/.exec(text)?.[1];
      const c = named ? names.get(named) : undefined;
      if (!c) throw new Error(`--check-config refused the batch without naming a zone: ${text}`);
      out.set(c, { refused: true, output: text, listing: '' });
      names.delete(named!);
    }
    return out;
  }

  function judgeZone(c: ZoneCase, verdict: { refused: boolean; output: string; listing: string }): string | undefined {
    const { refused, output } = verdict;
    // The workspace as a mirror of the host: the engine links the zone with the services and firewalld.conf.
    const engine = new Engine(createFormatModules(registry, { firewalldServices: stock }), registry, RULES);
    engine.hosts.setFolders([{ folder: '/ws', hosts: {} }]);
    const zoneFile = `/ws/etc/firewalld/zones/${c.zone}.xml`;
    engine.setFile(zoneFile, c.text);
    engine.setFile('/ws/etc/firewalld/firewalld.conf', 'DefaultZone=public\n');
    for (const [name, text] of Object.entries(c.services ?? {})) engine.setFile(`/ws/etc/firewalld/services/${name}.xml`, text);
    const ours = (engine.analyze().findingsByFile.get(zoneFile) ?? []).filter((f) => f.severity === 'error');
    if (refused !== ours.length > 0) {
      const theirs = output
        .split('\n')
        .filter((l) => /ERROR|WARNING|Error|error/.test(l))
        .join(' | ');
      return refused ? `firewalld refuses (${theirs}), we report nothing` : `firewalld accepts, we report ${ours.map((f) => f.message).join('; ')}`;
    }
    if (refused) return undefined;
    const theirs = parseListAll(verdict.listing);
    const parsed = zoneModule.parse(c.text, zoneFile);
    const z = (parsed.extra as Extract<FirewalldExtra, { kind: 'zone' }>).zone;
    const mine: ListAll = {
      services: [...new Set(z.services.map((s) => s.value))].sort(),
      ports: [...new Set(z.ports.map((p) => `${rangeStr(p.range!)}/${p.protocol.value}`))].sort(),
      sourcePorts: [...new Set(z.sourcePorts.map((p) => `${rangeStr(p.range!)}/${p.protocol.value}`))].sort(),
      forwardPorts: z.forwardPorts
        .map((f) => `port=${rangeStr(f.range!)}:proto=${f.protocol.value}:toport=${f.toRange ? rangeStr(f.toRange) : ''}:toaddr=${f.toAddr?.value ?? ''}`)
        .sort(),
    };
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) return `ours ${JSON.stringify(mine)} firewalld ${JSON.stringify(theirs)}`;
    return undefined;
  }

  function runZones(cases: ZoneCase[], label: string) {
    const verdicts = firewalldVerdicts(cases);
    const disagreements: string[] = [];
    const knownSeen: string[] = [];
    let refused = 0;
    for (const c of cases) {
      const v = verdicts.get(c)!;
      if (v.refused) refused++;
      const why = judgeZone(c, v);
      if (why && KNOWN[c.name]) knownSeen.push(`${c.name}: ${KNOWN[c.name]}`);
      else if (why) disagreements.push(`${c.name}: ${why}`);
      else if (KNOWN[c.name]) disagreements.push(`${c.name}: listed as a known difference but now agrees: remove it from KNOWN`);
    }
    console.log(
      `      ${label}: ${cases.length} zones (${refused} refused by firewalld), ${cases.length - disagreements.length - knownSeen.length} agree, ${knownSeen.length} known differences, ${disagreements.length} disagree`,
    );
    for (const k of knownSeen) console.log(`        known: ${k}`);
    assert.deepStrictEqual(disagreements, []);
  }

  it('reads the corpus zones as firewalld lists them', function () {
    if (!fs.existsSync(corpusDir)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${corpusDir}`);
      console.log(`      skipped: corpus not found at ${corpusDir}`);
      this.skip();
    }
    const files = fs
      .readdirSync(corpusDir)
      .filter((f) => /__zones__[^_].*\.xml$/.test(f))
      .sort();
    assert.ok(files.length > 0);
    runZones(
      files.map((f) => ({ name: f, zone: f.slice(f.lastIndexOf('__') + 2, -4), text: fs.readFileSync(path.join(corpusDir, f), 'utf8') })),
      'corpus',
    );
  });

  it('reads generated zones as firewalld lists them, and reports what it refuses', () => {
    runZones(generatedZones(), 'generated');
  });

  function infoService(dir: string, name: string): Record<string, string[]> | undefined {
    const r = run(cmd, [`--system-config=${dir}`, `--info-service=${name}`]);
    if (r.status !== 0) return undefined;
    const field = (n: string) => (new RegExp(`^\\s+${n}: ?(.*)$`, 'm').exec(r.stdout)?.[1] ?? '').split(/\s+/).filter(Boolean).sort();
    return { ports: field('ports'), protocols: field('protocols'), 'source-ports': field('source-ports'), includes: field('includes') };
  }

  it('ships stock service data equal to --info-service', () => {
    const dir = systemConfig({});
    const names = Object.keys(stock.services).sort();
    const sample = names.filter((_, i) => i % 10 === 0).concat(['ssh', 'samba', 'mdns', 'gre', 'llmnr-client', 'freeipa-4']);
    const disagreements: string[] = [];
    for (const name of [...new Set(sample)]) {
      const theirs = infoService(dir, name);
      const def = stock.services[name];
      const mine = {
        ports: def.ports.map((p) => `${p.port}/${p.protocol}`).sort(),
        protocols: [...def.protocols].sort(),
        'source-ports': def.sourcePorts.map((p) => `${p.port}/${p.protocol}`).sort(),
        includes: [...def.includes].sort(),
      };
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) disagreements.push(`${name}: ours ${JSON.stringify(mine)} firewalld ${JSON.stringify(theirs)}`);
    }
    console.log(`      stock services: ${new Set(sample).size} compared (of ${names.length}; ${stock.source}), ${disagreements.length} disagree`);
    assert.deepStrictEqual(disagreements, []);
  });

  it('reads the corpus service files as --info-service shows them', function () {
    if (!fs.existsSync(corpusDir)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${corpusDir}`);
      console.log(`      skipped: corpus not found at ${corpusDir}`);
      this.skip();
    }
    const files = fs
      .readdirSync(corpusDir)
      .filter((f) => /__config__services__/.test(f))
      .sort()
      .filter((_, i) => i % 30 === 0);
    const disagreements: string[] = [];
    const texts = Object.fromEntries(files.map((f) => [f.slice(f.lastIndexOf('__') + 2, -4), fs.readFileSync(path.join(corpusDir, f), 'utf8')]));
    // All sampled services in one directory: firewalld refuses the whole directory for one bad file.
    const dir = systemConfig({}, texts);
    const check = run(cmd, [`--system-config=${dir}`, '--check-config']);
    const refused = REFUSED.test(check.stdout + check.stderr);
    for (const [name, text] of Object.entries(texts)) {
      const theirs = infoService(dir, name);
      const { service, findings } = parseServiceSyntax(text, `/etc/firewalld/services/${name}.xml`, (n) => registry.serviceToPort(n));
      const errors = findings.filter((x) => x.severity === 'error');
      if (errors.length > 0 || (refused && (check.stdout + check.stderr).includes(name))) {
        disagreements.push(`${name}: ${errors.length > 0 ? `we report ${errors[0].message}` : ''} firewalld: ${check.stdout + check.stderr}`);
        continue;
      }
      const mine = {
        ports: service.ports.map((p) => `${rangeStr(p.range!)}/${p.protocol.value}`).sort(),
        protocols: [...service.protocols].sort(),
        'source-ports': service.sourcePorts.map((p) => `${rangeStr(p.range!)}/${p.protocol.value}`).sort(),
        includes: service.includes.map((i) => i.value).sort(),
      };
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) disagreements.push(`${name}: ours ${JSON.stringify(mine)} firewalld ${JSON.stringify(theirs)}`);
    }
    assert.ok(!refused, `firewalld refuses the sampled corpus services: ${check.stdout + check.stderr}`);
    console.log(`      corpus services: ${files.length} compared, ${files.length - disagreements.length} agree, ${disagreements.length} disagree`);
    assert.deepStrictEqual(disagreements, []);
  });
});
