/** not-exposed: a compose publish whose container port the service's own Dockerfile does not EXPOSE. */
import type { HostModel, RuleContext } from '../core/hostModel';
import type { Finding, PortFact } from '../core/types';
import { createRule } from './rule';

/** An EXPOSE whose value the Dockerfile reader could not know (a variable without a default): what it exposes is open. */
const VARIABLE_EXPOSE = /^[^\S\n]*EXPOSE\b[^\n]*\$/im;

function exposes(facts: readonly PortFact[], publish: PortFact): boolean {
  const t = publish.target!;
  for (let port = t.port; port <= t.portEnd; port++)
    if (!facts.some((f) => f.protocol === publish.protocol && f.port <= port && port <= f.portEnd)) return false;
  return true;
}

function check(ctx: RuleContext, host: HostModel): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const project of host.composeProjects) {
    for (const service of project.services) {
      if (!service.dockerfile) continue;
      const instance = host.instances.find((i) => i.format === 'dockerfile' && i.root === service.dockerfile);
      if (!instance) continue; // not in the workspace (or on another host): nothing to compare with
      const declared = instance.output.facts.filter((f) => f.role === 'container');
      // No EXPOSE at all says nothing (its base image may expose the port); a variable EXPOSE may be the port.
      if (declared.length === 0 || VARIABLE_EXPOSE.test(ctx.textOf?.(service.dockerfile) ?? '')) continue;
      for (const publish of host.binds) {
        if (publish.role !== 'publish' || publish.instance !== project.root || publish.target?.service !== service.name) continue;
        const key = `${publish.file}:${publish.span.start}:${publish.protocol}`;
        if (seen.has(key) || exposes(declared, publish)) continue;
        seen.add(key);
        const t = publish.target;
        const port = t.port === t.portEnd ? String(t.port) : `${t.port}-${t.portEnd}`;
        const listed = [...new Set(declared.map((f) => `${f.port === f.portEnd ? f.port : `${f.port}-${f.portEnd}`}/${f.protocol}`))].join(' ');
        out.push({
          file: publish.file,
          span: publish.span,
          severity: 'hint',
          code: 'not-exposed',
          messageId: 'not-exposed',
          message: `${ctx.shownPath(service.dockerfile)} does not EXPOSE ${port}/${publish.protocol} (it exposes ${listed}): is ${port} the port ${service.name} listens on?`,
          related: declared.map((f) => ({
            file: f.file,
            span: f.span,
            message: `EXPOSE ${f.port === f.portEnd ? f.port : `${f.port}-${f.portEnd}`}/${f.protocol}`,
          })),
          data: { port: t.port, portEnd: t.portEnd, protocol: publish.protocol, program: 'docker' },
        });
      }
    }
  }
  return out;
}

export const notExposed = createRule({
  name: 'not-exposed',
  meta: {
    code: 'not-exposed',
    severity: 'hint',
    description: "A compose port mapping forwards to a container port that the service's own Dockerfile does not EXPOSE.",
    fixable: false,
    reportedBy: 'host',
    messages: { 'not-exposed': 'The mapped container port is not among the ports the Dockerfile exposes.' },
    docs: {
      body:
        'EXPOSE publishes nothing by itself, and Docker forwards a published port whatever the image declares; but when a ' +
        "service's image is built from a Dockerfile in the workspace (`build:`) and that Dockerfile exposes its ports, a " +
        'mapping to another container port usually means the target is wrong (`8080:80` for an app that listens on 3000), and ' +
        'the connection is refused inside the container. It is a hint, on the mapping. It stays silent when the Dockerfile ' +
        'exposes the port (any stage, the same protocol), when it has no EXPOSE at all (its base image may expose the port), ' +
        'when an EXPOSE uses a variable it cannot know, when the Dockerfile is not in the workspace, and when the image is not ' +
        'built locally (`image:` alone, a remote build context, `dockerfile_inline`).',
      fires: {
        'app/compose.yaml': 'services:\n  web:\n    build: .\n    ports: ["8080:80"]\n',
        'app/Dockerfile': 'FROM node:22\nEXPOSE 3000\nCMD ["node", "server.js"]\n',
      },
      silent: {
        'app/compose.yaml': 'services:\n  web:\n    build: .\n    ports: ["8080:3000"]\n',
        'app/Dockerfile': 'FROM node:22\nEXPOSE 3000\nCMD ["node", "server.js"]\n',
      },
    },
  },
  create(ctx) {
    return (host) => check(ctx, host);
  },
});
