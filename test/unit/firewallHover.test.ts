import * as assert from 'assert';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { hoverAt } from '../../server/src/features/hoverText';
import { engineWith, offsetOf } from '../helpers/engine';

const v4 = (body: string, policy = 'DROP') => `*filter\n:INPUT ${policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n${body}COMMIT\n`;
const SECTION = "The host's firewall, for new connections from the network:";
const RULE_SECTION = 'This rule and the listeners of the host:';

/** The hover's lines under `heading` (up to the next blank line); [] when the hover has no such section. */
function section(files: Record<string, string>, file: string, needle: string, heading: string): string[] {
  const engine = engineWith(files);
  const h = hoverAt(engine, `/ws/${file}`, offsetOf(files[file], needle), parseEphemeralRanges(undefined), (f) => f.replace('/ws/', ''));
  assert.ok(h, `a hover on ${needle} in ${file}`);
  const lines = h.markdown.split('\n');
  const i = lines.indexOf(heading);
  if (i < 0) return [];
  const end = lines.indexOf('', i);
  return lines.slice(i + 1, end < 0 ? undefined : end);
}
const link = (rel: string, line: number) => `[${rel}:${line}](file:///ws/${rel}#L${line})`;

describe('hover: what the firewall lets in', () => {
  const rules = v4(
    '-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp --dport 22 -s 10.0.0.0/8 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n' +
      '-A INPUT -p tcp --dport 8080 -m recent --name x --rcheck -j DROP\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -p tcp --dport 9000 -j REJECT\n',
  );
  const nginx = 'events {}\nhttp {\n  server {\n    listen 80;\n    listen 8080;\n    listen 9000;\n    listen 9100;\n    listen 127.0.0.1:9200;\n  }\n}\n';
  const files = { 'etc/iptables/rules.v4': rules, 'etc/nginx/nginx.conf': nginx, 'etc/ssh/sshd_config': 'Port 22\n' };
  const fw = 'etc/iptables/rules.v4';

  it('on a listener: open by a rule, blocked by the policy or a rule, each with its file:line link', () => {
    assert.deepStrictEqual(section(files, 'etc/nginx/nginx.conf', '80;', SECTION), [`- IPv4: open — an iptables accept rule (${link(fw, 7)})`]);
    assert.deepStrictEqual(section(files, 'etc/nginx/nginx.conf', '9100', SECTION), [`- IPv4: blocked — iptables' policy DROP (${link(fw, 2)}) drops it`]);
    assert.deepStrictEqual(section(files, 'etc/nginx/nginx.conf', '9000', SECTION), [`- IPv4: blocked — an iptables reject rule (${link(fw, 10)}) rejects it`]);
  });

  it('on a listener: a source-limited opening says for whom; an unevaluated condition is uncertain and says how to settle it', () => {
    assert.deepStrictEqual(section(files, 'etc/ssh/sshd_config', '22', SECTION), [
      `- IPv4: open from 10.0.0.0/8 (${link(fw, 6)}) only; for the rest, iptables' policy DROP (${link(fw, 2)}) drops it`,
    ]);
    assert.deepStrictEqual(section(files, 'etc/nginx/nginx.conf', '8080', SECTION), [
      `- IPv4: uncertain — a rule with -m recent (${link(fw, 8)}) may decide before an iptables accept rule (${link(fw, 9)}); \`nc -vz HOST 8080\` from another machine settles it`,
    ]);
  });

  it('says nothing for a loopback listener, a family no firewall filters, or a host without a firewall', () => {
    assert.deepStrictEqual(section(files, 'etc/nginx/nginx.conf', '9200', SECTION), []);
    const v6only = { ...files, 'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    listen [::]:9100;\n  }\n}\n' };
    assert.deepStrictEqual(section(v6only, 'etc/nginx/nginx.conf', '9100', SECTION), []);
    assert.deepStrictEqual(section({ 'etc/nginx/nginx.conf': nginx }, 'etc/nginx/nginx.conf', '9100', SECTION), []);
  });

  it('judges IPv4 and IPv6 apart, and merges them when they agree', () => {
    const both = {
      'etc/ssh/sshd_config': 'Port 2222\n',
      [fw]: v4('-A INPUT -p tcp --dport 22 -j ACCEPT\n'),
      'etc/iptables/rules.v6': v4('-A INPUT -p tcp --dport 2222 -j ACCEPT\n'),
    };
    assert.deepStrictEqual(section(both, 'etc/ssh/sshd_config', '2222', SECTION), [
      `- IPv4: blocked — iptables' policy DROP (${link(fw, 2)}) drops it`,
      `- IPv6: open — an iptables accept rule (${link('etc/iptables/rules.v6', 5)})`,
    ]);
    const inet = {
      'etc/ssh/sshd_config': 'Port 2222\n',
      'etc/nftables.conf': 'table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 2222 accept\n  }\n}\n',
    };
    assert.deepStrictEqual(section(inet, 'etc/ssh/sshd_config', '2222', SECTION), [
      `- IPv4 and IPv6: open — an nftables accept rule (${link('etc/nftables.conf', 4)})`,
    ]);
  });

  it('ufw: rate-limited for limit, open when ufw is disabled', () => {
    const user = (tuples: string) => `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n${tuples}### END RULES ###\nCOMMIT\n`;
    const ufw = (enabled: string) => ({
      'etc/ssh/sshd_config': 'Port 22\nAddressFamily inet\n',
      'etc/ufw/user.rules': user(
        '### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set\n-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit\n-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept\n',
      ),
      'etc/default/ufw': 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n',
      'etc/ufw/ufw.conf': `ENABLED=${enabled}\n`,
    });
    const [limited] = section(ufw('yes'), 'etc/ssh/sshd_config', '22', SECTION);
    assert.match(
      limited,
      /^- IPv4: rate-limited — a ufw accept rule \(\[etc\/ufw\/user\.rules:\d+\]\(file:\/\/\/ws\/etc\/ufw\/user\.rules#L\d+\)\) accepts at most 6 new connections per source in 30 s$/,
    );
    assert.deepStrictEqual(section(ufw('no'), 'etc/ssh/sshd_config', '22', SECTION), [`- IPv4: open — ufw is disabled (${link('etc/ufw/user.rules', 1)})`]);
  });

  it("a Docker publish: open past the INPUT rules that would block it (Docker's DNAT and FORWARD)", () => {
    const compose = 'services:\n  app:\n    image: x\n    ports:\n      - "9100:80"\n';
    const lines = section({ [fw]: rules, 'srv/compose.yaml': compose }, 'srv/compose.yaml', '9100', SECTION);
    assert.deepStrictEqual(lines, [`- IPv4: open — Docker's DNAT and FORWARD rules skip INPUT, where iptables' policy DROP (${link(fw, 2)}) would block it`]);
  });

  it('on a rule: the listeners it admits, blocks, or that an earlier rule decides for', () => {
    assert.deepStrictEqual(section(files, fw, '80,443', RULE_SECTION), [`- nginx on TCP 80 (${link('etc/nginx/nginx.conf', 4)}) — IPv4: admits it`]);
    assert.deepStrictEqual(section(files, fw, '9000', RULE_SECTION), [`- nginx on TCP 9000 (${link('etc/nginx/nginx.conf', 6)}) — IPv4: rejects it`]);
    assert.deepStrictEqual(section(files, fw, '22 -s', RULE_SECTION), [
      `- sshd on TCP 22 (${link('etc/ssh/sshd_config', 1)}) — IPv4: admits it from 10.0.0.0/8 only`,
    ]);
    assert.deepStrictEqual(section(files, fw, '8080 -j', RULE_SECTION), [
      `- nginx on TCP 8080 (${link('etc/nginx/nginx.conf', 5)}) — IPv4: admits it, unless the rule with -m recent (${link(fw, 8)}) decides first`,
    ]);
    const shadowed = { ...files, [fw]: v4('-A INPUT -p tcp --dport 80 -j DROP\n-A INPUT -p tcp --dport 80 -j ACCEPT\n') };
    assert.deepStrictEqual(section(shadowed, fw, '80 -j ACCEPT', RULE_SECTION), [
      `- nginx on TCP 80 (${link('etc/nginx/nginx.conf', 4)}) — IPv4: does not decide: an iptables drop rule (${link(fw, 5)}) does`,
    ]);
  });

  it('on a rule nothing listens behind: no listener lines', () => {
    assert.deepStrictEqual(section({ [fw]: v4('-A INPUT -p tcp --dport 5432 -j ACCEPT\n') }, fw, '5432', RULE_SECTION), []);
  });
});
