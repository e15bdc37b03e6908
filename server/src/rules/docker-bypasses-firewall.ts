/** docker-bypasses-firewall: a compose port published on a network address that the host firewall would drop for an ordinary listener. */
import { judgeBinds } from '../core/firewall/findings';
import { deciderText, FAMILY_LABEL } from '../core/firewall/verdict';
import type { Finding } from '../core/types';
import { createRule } from './rule';

export const dockerBypassesFirewall = createRule({
  name: 'docker-bypasses-firewall',
  meta: {
    code: 'docker-bypasses-firewall',
    severity: 'warning',
    description: 'Docker publishes a port that the host firewall would block: its own NAT and FORWARD rules let it in anyway.',
    fixable: true,
    fixes: [
      {
        title: 'Publish on 127.0.0.1 only',
        when: 'A compose publish in short syntax gets `127.0.0.1:` before its host port (or in place of the address written) (not offered in long syntax: docker-compose config refuses `host_ip`). Docker then binds loopback only: the port is reachable from the host itself (a proxy in front of it), not from the network.',
      },
    ],
    reportedBy: 'host',
    messages: { bypass: 'A published port the firewall drops for ordinary listeners: Docker routes it past INPUT.' },
    docs: {
      body:
        'Docker publishes a container port by a DNAT rule in the nat table (chain DOCKER, from PREROUTING) and accepts the ' +
        'traffic in FORWARD; the packet never reaches the INPUT chain, where ufw, firewalld zones and INPUT rules filter. ' +
        'Docker\'s documentation says so (Docker Engine, "Packet filtering and firewalls": published ports bypass ufw and ' +
        'firewalld INPUT rules; rules of your own belong in the DOCKER-USER chain, which Docker evaluates before its own). ' +
        'So a port the firewall would drop for an ordinary listener is open to the network when a compose file publishes ' +
        "it on a non-loopback address. Portolan reports it for ufw, iptables and firewalld (with nftables only Docker's " +
        'own iptables-nft rules do this, which a workspace seldom holds, so it stays silent there). To close it, publish ' +
        'on loopback (`"127.0.0.1:8080:80"`) and put a proxy in front, or filter in DOCKER-USER (for ufw, the ufw-docker ' +
        'recipe adds rules to DOCKER-USER in after.rules), or set `"iptables": false` in daemon.json and route it yourself. ' +
        'This cannot be run here (no Docker engine): the unit tests check the rule against the documented behaviour.',
      fires: {
        'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n',
        'etc/ufw/user.rules': '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n### END RULES ###\nCOMMIT\n',
        'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\n',
        'etc/ufw/ufw.conf': 'ENABLED=yes\n',
      },
      silent: {
        'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "127.0.0.1:8080:80"\n',
        'etc/ufw/user.rules': '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n### END RULES ###\nCOMMIT\n',
        'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\n',
        'etc/ufw/ufw.conf': 'ENABLED=yes\n',
      },
    },
  },
  create(ctx) {
    return (host) => {
      const out: Finding[] = [];
      for (const m of judgeBinds(host, 'publish')) {
        const closed = m.verdicts.filter((v) => v.tool !== 'nftables' && (v.state === 'blocked' || v.state === 'sources-only'));
        if (closed.length === 0) continue;
        const f = m.facts[0];
        const first = closed[0];
        const port = f.portEnd !== f.port ? `${f.port}-${f.portEnd}` : String(f.port);
        const text = ctx.textOf?.(f.file);
        const loopback = text !== undefined ? ctx.writerOf?.(f.file)?.publishOnLoopback?.(text, f) : undefined;
        out.push({
          ...(loopback ? { fixes: [{ title: 'Publish on 127.0.0.1 only', edits: loopback }] } : {}),
          file: f.file,
          span: f.span,
          severity: 'warning',
          code: 'docker-bypasses-firewall',
          messageId: 'bypass',
          message:
            `Docker publishes ${f.protocol.toUpperCase()} ${port} to the network although ${deciderText(first)} (${ctx.shownPath(first.by.file)}:${ctx.lineOf(first.by.file, first.by.span.start)}) ` +
            `${first.state === 'sources-only' ? 'opens it to some sources only' : 'blocks it'}: Docker's DNAT and FORWARD rules skip INPUT. Publish on 127.0.0.1, or filter in the DOCKER-USER chain.`,
          related: closed.map((v) => ({
            file: v.by.file,
            span: v.by.span,
            message: `${deciderText(v)} decides for ${FAMILY_LABEL[v.family]} ${f.protocol.toUpperCase()} ${f.port} (Docker's traffic never meets it)`,
          })),
          data: {
            port: f.port,
            portEnd: f.portEnd,
            protocol: f.protocol,
            program: 'docker',
            other: closed.map((v) => ({ file: v.by.file, span: v.by.span, program: v.tool })),
          },
        });
      }
      return out;
    };
  },
});
