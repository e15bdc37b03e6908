/**
 * The corpus's firewalls as netfilter oracle cases (test/oracle/netfilter.test.ts): every iptables
 * dump (rules.v4, or rules.v6 when it is an ip6tables dump), every nftables ruleset, each ufw rules
 * set (over ufw's stock files, enabled), each firewalld zone as the default zone (over firewalld's
 * stock services), and the firewalls of the corpus workspaces. The corpus is read in place
 * (../shared/corpus beside the repository, or PORTOLAN_CORPUS); a case the real program refuses to
 * load is counted apart, not compared.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NetfilterCase } from './cases';

export function corpusRoot(): string {
  return process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../../shared/corpus');
}

const read = (file: string) => fs.readFileSync(file, 'utf8');
const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

function iptablesCases(dir: string): NetfilterCase[] {
  return list(dir).map((name) => {
    const text = read(path.join(dir, name));
    // An ip6tables dump names IPv6 addresses or ICMPv6; ufw's and Fedora's v6 dumps say ip6 in their names.
    const v6 = /ip6|ipv6/i.test(name) || /\bipv6-icmp\b|icmp6|-s [0-9a-f]*:[0-9a-f:]*\/\d+/.test(text);
    return { id: `corpus-iptables-${name}`, tool: 'iptables' as const, files: { [`etc/iptables/rules.${v6 ? 'v6' : 'v4'}`]: text } };
  });
}

function nftCases(dir: string): NetfilterCase[] {
  return list(dir).map((name) => ({ id: `corpus-nftables-${name}`, tool: 'nftables' as const, files: { 'etc/nftables.conf': read(path.join(dir, name)) } }));
}

const UFW_RULES = ['before.rules', 'before6.rules', 'after.rules', 'after6.rules', 'user.rules', 'user6.rules'];

function ufwCases(dir: string): NetfilterCase[] {
  // Group the rules files by repository (owner__repo__...): one ufw per repository.
  const groups = new Map<string, Record<string, string>>();
  for (const name of list(dir)) {
    const base = UFW_RULES.find((r) => name.endsWith(`__${r}`));
    if (!base) continue;
    const repo = name.split('__').slice(0, 2).join('__');
    const files = groups.get(repo) ?? {};
    files[`etc/ufw/${base}`] = read(path.join(dir, name));
    groups.set(repo, files);
  }
  return [...groups].map(([repo, files]) => ({
    id: `corpus-ufw-${repo}`,
    tool: 'ufw' as const,
    files,
    ufwDefaults: { policy: 'DROP', ipv6: true, enabled: true },
    ufwWorkspaceRules: true,
  }));
}

function firewalldCases(dir: string): NetfilterCase[] {
  return list(dir)
    .filter((name) => /__zones__[^_][^/]*\.xml$/.test(name))
    .map((name) => {
      const zone = name.slice(name.lastIndexOf('__') + 2, -'.xml'.length);
      return {
        id: `corpus-firewalld-${name}`,
        tool: 'firewalld' as const,
        files: { 'etc/firewalld/firewalld.conf': `DefaultZone=${zone}\n`, [`etc/firewalld/zones/${zone}.xml`]: read(path.join(dir, name)) },
      };
    });
}

/** The firewall files of one corpus workspace, as the case's files (relative to the workspace root). */
function workspaceCases(dir: string): NetfilterCase[] {
  const out: NetfilterCase[] = [];
  for (const ws of list(dir)) {
    const root = path.join(dir, ws);
    if (!fs.statSync(root).isDirectory()) continue;
    const grab = (rels: string[]) => Object.fromEntries(rels.filter((r) => fs.existsSync(path.join(root, r))).map((r) => [r, read(path.join(root, r))]));
    const ipt = grab(['etc/iptables/rules.v4', 'etc/iptables/rules.v6']);
    if (Object.keys(ipt).length) out.push({ id: `corpus-workspace-${ws}-iptables`, tool: 'iptables', files: ipt });
    const nft = grab(['etc/nftables.conf']);
    if (Object.keys(nft).length) out.push({ id: `corpus-workspace-${ws}-nftables`, tool: 'nftables', files: nft });
    const ufw = grab([...UFW_RULES.map((r) => `etc/ufw/${r}`), 'etc/default/ufw']);
    if (Object.keys(ufw).some((r) => r.endsWith('.rules'))) {
      const defaults = ufw['etc/default/ufw'] ?? '';
      const policy = (/^DEFAULT_INPUT_POLICY="?(DROP|ACCEPT|REJECT)/m.exec(defaults)?.[1] ?? 'DROP') as 'DROP' | 'ACCEPT' | 'REJECT';
      delete ufw['etc/default/ufw'];
      out.push({
        id: `corpus-workspace-${ws}-ufw`,
        tool: 'ufw',
        files: ufw,
        ufwDefaults: { policy, ipv6: !/^IPV6=no/m.test(defaults), enabled: true },
        ufwWorkspaceRules: true,
      });
    }
    const zonesDir = path.join(root, 'etc/firewalld/zones');
    if (fs.existsSync(zonesDir)) {
      const files: Record<string, string> = grab(['etc/firewalld/firewalld.conf']);
      for (const sub of ['zones', 'services'])
        for (const name of list(path.join(root, 'etc/firewalld', sub)))
          files[`etc/firewalld/${sub}/${name}`] = read(path.join(root, 'etc/firewalld', sub, name));
      // Only the settings that decide the zone: the corpus's other firewalld.conf keys name backends and modules of its own machine.
      const def = /^DefaultZone=(.*)$/m.exec(files['etc/firewalld/firewalld.conf'] ?? '')?.[1] ?? 'public';
      files['etc/firewalld/firewalld.conf'] = `DefaultZone=${def}\n`;
      out.push({ id: `corpus-workspace-${ws}-firewalld`, tool: 'firewalld', files });
    }
  }
  return out;
}

export function corpusCases(): NetfilterCase[] {
  const root = corpusRoot();
  const fw = path.join(root, 'firewall');
  return [
    ...iptablesCases(path.join(fw, 'iptables')),
    ...nftCases(path.join(fw, 'nftables')),
    ...ufwCases(path.join(fw, 'ufw')),
    ...firewalldCases(path.join(fw, 'firewalld')),
    ...workspaceCases(path.join(root, 'workspaces')),
  ];
}
