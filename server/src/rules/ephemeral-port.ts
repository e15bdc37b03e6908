/** ephemeral-port: a listening port inside an ephemeral range, which the kernel hands to outgoing connections. */
import { minOf } from '../core/arrays';
import { factAt, usePortFixes } from '../core/fixes';
import { ephemeralOverlaps } from '../core/portRanges';
import type { Finding } from '../core/types';
import { createRule } from './rule';

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
        when: 'Each listener or published host port written inside an ephemeral range: 2-3 free ports just below the lowest range it overlaps (nothing on the host uses them, unregistered first). Only the port digits change.',
      },
    ],
    reportedBy: 'host',
    messages: {
      inside: 'A single port inside the ephemeral range.',
      overlaps: 'A range of ports that overlaps the ephemeral range.',
    },
    docs: {
      body: 'The kernel picks the local port of every outgoing connection from its ephemeral range (`net.ipv4.ip_local_port_range`, 32768-60999 on Linux by default; `portolan.ephemeralRanges` sets the ranges judged). A server that listens on a port of that range may find it taken by an outgoing connection when it starts, and then fails with "Address already in use" until that connection closes. Only ports someone wrote are judged (not a default), and only what binds on the host: listeners and published host ports, not container-side ports or firewall rules.',
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
        const ranged = fact.portEnd !== fact.port;
        const what = ranged ? `Ports ${fact.port}-${fact.portEnd} overlap` : `Port ${fact.port} is inside`;
        const below = minOf(hits.map((h) => h.from));
        const fixes =
          factAt(host, fact.file, fact.span) === fact ? usePortFixes(ctx, host, fact, { below, preferFirst: true, why: '(below the ephemeral ranges)' }) : [];
        out.push({
          ...(fixes.length > 0 ? { fixes } : {}),
          file: fact.file,
          span: fact.span,
          severity: 'warning',
          code: 'ephemeral-port',
          messageId: ranged ? 'overlaps' : 'inside',
          message: `${what} the ${hits.map((h) => h.label).join(' and the ')}: the kernel hands these ports to outgoing connections, so ${fact.program} may find it taken at start.`,
          data: { port: fact.port, portEnd: fact.portEnd, protocol: fact.protocol, program: fact.program },
        });
      }
      return out;
    };
  },
});
