/** ephemeral-port: a listening port inside an ephemeral range, which the kernel hands to outgoing connections. */
import { minOf } from '../core/arrays';
import { factAt, usePortFixes } from '../core/fixes';
import type { RuleContext } from '../core/hostModel';
import { ephemeralOverlaps, IANA_EPHEMERAL, type NamedRange } from '../core/portRanges';
import type { Finding, PortFact } from '../core/types';
import { createRule } from './rule';

/** The range a message names: the kernel's (Linux or configured) before IANA's convention; "(net.ipv4...)" left to the hover. */
function rangeName(hits: NamedRange[]): string {
  const kernel = hits.find((h) => h.from !== IANA_EPHEMERAL.from || h.to !== IANA_EPHEMERAL.to) ?? hits[0];
  return kernel.label.replace(/ \(.*\)$/, '');
}

/**
 * The product whose standard port this is (WireGuard's 51820/udp), from the curated data: a port
 * chosen because the product uses it, which users keep; the risk is named, quietly.
 */
function knownProduct(ctx: RuleContext, fact: PortFact): string | undefined {
  if (fact.port !== fact.portEnd) return undefined;
  const info = ctx.registry.lookup(fact.protocol, fact.port);
  return info?.source === 'curated' ? info.name : undefined;
}

export const ephemeralPort = createRule({
  name: 'ephemeral-port',
  meta: {
    code: 'ephemeral-port',
    severity: 'warning',
    description: 'A listening port inside an ephemeral range: the kernel hands these ports to outgoing connections, so the bind may fail at start.',
    fixable: true,
    fixes: [
      {
        title: 'Use port N (below the ephemeral ranges)',
        preferred: true,
        when: "Each listener or published host port written inside an ephemeral range: 2-3 free ports just below the lowest range it overlaps (nothing on the host uses them, no well-known service's first). Only the port digits change. On a known product's standard port the fix is offered but not preferred (Fix all keeps the port).",
      },
    ],
    reportedBy: 'host',
    messages: {
      inside: 'A single port inside the ephemeral range (warning).',
      overlaps: 'A range of ports that overlaps the ephemeral range (warning).',
      'known-product': "The standard port of a known product (WireGuard's 51820/udp), inside the ephemeral range: named, as information.",
    },
    docs: {
      body: 'The kernel picks the local port of every outgoing connection from its ephemeral range (`net.ipv4.ip_local_port_range`, 32768-60999 on Linux by default; `portolan.ephemeralRanges` sets the ranges judged). A server that listens on a port of that range may find it taken by an outgoing connection when it starts, and then fails with "Address already in use" until that connection closes. Only ports someone wrote are judged (not a default), and only what binds on the host: listeners and published host ports, not container-side ports or firewall rules. A port that is the standard port of a known product (WireGuard\'s 51820/udp, Transmission\'s 51413) is what users choose on purpose and clients expect: it is reported as information naming the product, not as a warning.',
      fires: { 'etc/ssh/sshd_config': 'Port 50022\n' },
      silent: { 'etc/ssh/sshd_config': 'Port 2222\n' },
    },
  },
  create(ctx) {
    return (host) => {
      const out: Finding[] = [];
      for (const fact of host.binds) {
        if (fact.implicit) continue;
        const hits = ephemeralOverlaps(fact.port, fact.portEnd, ctx.settings.ephemeralRanges);
        if (hits.length === 0) continue;
        const product = knownProduct(ctx, fact);
        const ranged = fact.portEnd !== fact.port;
        const below = minOf(hits.map((h) => h.from));
        const fixes =
          factAt(host, fact.file, fact.span) === fact
            ? usePortFixes(ctx, host, fact, { below, preferFirst: product === undefined, why: '(below the ephemeral ranges)' })
            : [];
        const range = rangeName(hits);
        const ports = `${fact.port}${ranged ? `-${fact.portEnd}` : ''}/${fact.protocol}`;
        const message = product
          ? `Port ${ports} is ${product}'s standard port, in the ${range}: an outgoing connection could hold it`
          : ranged
            ? `Ports ${ports} overlap the ${range}: an outgoing connection may hold one when ${fact.program} starts`
            : `Port ${ports} is in the ${range}: an outgoing connection may hold it when ${fact.program} starts`;
        out.push({
          ...(fixes.length > 0 ? { fixes } : {}),
          file: fact.file,
          span: fact.span,
          severity: product ? 'information' : 'warning',
          code: 'ephemeral-port',
          messageId: product ? 'known-product' : ranged ? 'overlaps' : 'inside',
          message,
          data: { port: fact.port, portEnd: fact.portEnd, protocol: fact.protocol, program: fact.program },
        });
      }
      return out;
    };
  },
});
