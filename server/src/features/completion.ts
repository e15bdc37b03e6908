/**
 * textDocument/completion where a port is written: after nginx `listen `, sshd `Port ` and
 * `ListenAddress host:`, a compose `ports:` item or `published:`, iptables/ufw `--dport(s)`, nft
 * `dport`, a firewalld `port="`. Where a program binds, free ports come first (not bound on this host
 * by another program, outside the ephemeral ranges), then the taken ones saying by whom; where a
 * firewall rule goes, the ports the host's programs bind come first. Each item names its service;
 * formats that take service names (sshd, iptables, ufw, nft) get the names too.
 */
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import { ephemeralOverlaps, type NamedRange } from '../core/portRanges';
import type { FormatId, PortFact, Protocol } from '../core/types';
import type { Feature } from './feature';
import { offsetIn } from './lspLocations';

type Slot = { kind: 'bind' | 'rule'; names: boolean; protocol: Protocol };

/** What the text before the cursor asks for in this format, if it is a port. */
export function portSlot(format: FormatId | undefined, before: string, linesAbove: string[]): Slot | undefined {
  const udp = /\budp\b/.test(before);
  const protocol: Protocol = udp ? 'udp' : 'tcp';
  switch (format) {
    case 'nginx':
      return /(^|[\s;{])listen\s+(?:[\w.*-]+:|\[[0-9a-fA-F:.]*\]:)?$/.test(before) ? { kind: 'bind', names: false, protocol: 'tcp' } : undefined;
    case 'sshd':
      if (/^\s*Port\s+$/i.test(before)) return { kind: 'bind', names: true, protocol: 'tcp' };
      return /^\s*ListenAddress\s+(?:[^\s[\]]+|\[[^\]]*\]):$/i.test(before) ? { kind: 'bind', names: false, protocol: 'tcp' } : undefined;
    case 'compose':
      if (/^\s*published:\s*["']?$/.test(before)) return { kind: 'bind', names: false, protocol: 'tcp' };
      return /^\s*-\s*["']?(?:[\d.]+:|\[[0-9a-fA-F:]*\]:)?$/.test(before) && inPortsList(linesAbove, before)
        ? { kind: 'bind', names: false, protocol: 'tcp' }
        : undefined;
    case 'iptables':
    case 'ufw':
      return /--(?:dport|destination-port|dports)\s+(?:[\w:]+,)*$/.test(before) ? { kind: 'rule', names: true, protocol } : undefined;
    case 'nftables':
      return /\bdport\s+(?:\{\s*(?:[\w-]+\s*,\s*)*)?$/.test(before) ? { kind: 'rule', names: true, protocol } : undefined;
    case 'firewalld-zone':
    case 'firewalld-service':
      return /<port\b[^>]*\bport="$/.test(before) ? { kind: 'rule', names: false, protocol: /protocol="udp"/.test(before) ? 'udp' : 'tcp' } : undefined;
    default:
      return undefined;
  }
}

/** A `- ` item line belongs to a `ports:` key: the nearest line above with less indentation says `ports:`. */
function inPortsList(linesAbove: string[], current: string): boolean {
  const indent = /^\s*/.exec(current)![0].length;
  for (let i = linesAbove.length - 1; i >= 0; i--) {
    const line = linesAbove[i];
    if (/^\s*(#|$)/.test(line)) continue;
    const own = /^\s*/.exec(line)![0].length;
    if (own < indent || (own === indent && !/^\s*-/.test(line))) return /^\s*ports:\s*$/.test(line);
  }
  return false;
}

function where(engine: Engine, f: PortFact): string {
  return `${engine.hosts.shownPath(f.file)}:${engine.lineIndex(f.file).position(f.span.start).line + 1}`;
}

export function provideCompletion(engine: Engine, file: string, position: { line: number; character: number }, ephemeral: NamedRange[]): CompletionItem[] {
  const offset = offsetIn(engine, file, position);
  if (offset === undefined) return [];
  const text = engine.text(file) ?? '';
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const format = engine.analyze().formatOf.get(file) ?? engine.moduleFor(file)?.id;
  const slot = portSlot(format, before, text.slice(0, lineStart).split('\n').slice(-200));
  if (!slot) return [];
  const host = engine.hostModelOf(file);
  const own = new Set(engine.instancesOf(file));
  const binds = (host?.binds ?? []).filter((b) => b.protocol === slot.protocol);
  const takenBy = (port: number) => binds.find((b) => b.port <= port && b.portEnd >= port && !own.has(b.instance ?? b.file) && b.file !== file);
  const candidates = new Set<number>(engine.registry.curatedPorts(slot.protocol));
  for (const b of binds) {
    candidates.add(b.port);
    if (b.portEnd < 65535) candidates.add(b.portEnd + 1);
  }
  const items: CompletionItem[] = [];
  for (const port of [...candidates].sort((a, b) => a - b)) {
    const info = engine.registry.lookup(slot.protocol, port);
    const bound = binds.find((b) => b.port <= port && b.portEnd >= port);
    let rank: number;
    let detail: string;
    if (slot.kind === 'rule') {
      rank = bound ? 0 : 1;
      detail = bound ? `bound by ${bound.program} (${where(engine, bound)})` : 'nothing binds it on this host';
    } else {
      const other = takenBy(port);
      const inEphemeral = ephemeralOverlaps(port, port, ephemeral).length > 0;
      rank = other ? 2 : inEphemeral ? 1 : 0;
      detail = other ? `taken by ${other.program} (${where(engine, other)})` : inEphemeral ? 'free, but in an ephemeral range' : 'free on this host';
    }
    const label = String(port);
    items.push({
      label,
      kind: CompletionItemKind.Value,
      detail: `${info ? `${info.name} · ` : ''}${detail}`,
      sortText: `${rank}${label.padStart(5, '0')}`,
      labelDetails: info ? { description: info.name } : undefined,
    });
    const service = info?.iana?.service;
    if (slot.names && service && engine.registry.serviceToPort(service, slot.protocol) === port)
      items.push({ label: service, kind: CompletionItemKind.EnumMember, detail: `${port}/${slot.protocol} · ${detail}`, sortText: `${rank + 3}${service}` });
  }
  return items;
}

export const completionFeature: Feature = {
  name: 'completion',
  capabilities: { completionProvider: { triggerCharacters: [' ', ':', '"', ',', '{'] } },
  register(ctx) {
    ctx.connection.onCompletion(({ textDocument, position }) => {
      const file = ctx.pathOf(textDocument.uri);
      return file ? provideCompletion(ctx.engine, file, position, ctx.settings().ephemeralRanges) : [];
    });
  },
};
