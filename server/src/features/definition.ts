/** textDocument/definition: from an upstream, a firewall rule, a forward or a container port to the bind it refers to; from a Kubernetes nodePort, Service port, targetPort, hostPort or Ingress backend one step on, as the cluster routes. */
import type { Location } from 'vscode-languageserver';
import type { Engine } from '../core/engine';
import type { Feature } from './feature';
import { locationOf, offsetIn } from './lspLocations';
import { bindsBehind, mentionAt } from './portSockets';

export function provideDefinition(engine: Engine, file: string, position: { line: number; character: number }): Location[] {
  const offset = offsetIn(engine, file, position);
  if (offset === undefined) return [];
  const fact = mentionAt(engine, file, offset);
  if (!fact || fact.role === 'listen' || fact.role === 'publish') return [];
  return bindsBehind(engine, fact).map((f) => locationOf(engine, f));
}

export const definitionFeature: Feature = {
  name: 'definition',
  capabilities: { definitionProvider: true },
  register(ctx) {
    ctx.connection.onDefinition(({ textDocument, position }) => {
      const file = ctx.pathOf(textDocument.uri);
      return file ? provideDefinition(ctx.engine, file, position) : [];
    });
  },
};
