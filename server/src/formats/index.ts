/** Every supported format, in detection order (first path match wins, then content). */
import type { PortRegistry } from '../core/registry';
import { serviceLookup } from '../core/serviceNames';
import type { FormatId, FormatModule } from '../core/types';
import { createSshdModule } from './sshd';
import { createNginxModule } from './nginx';
import { createNftablesModule } from './nftables';
import { createFirewalldModules } from './firewalld';
import type { FirewalldServiceData } from './firewalld/services';
import { createComposeModule } from './compose';
import { createIptablesModule } from './iptables';
import { createUfwModules } from './ufw';
import { createResolvedModule } from './resolved';
import { createApacheModule } from './apache';
import { createHaproxyModule } from './haproxy';
import { createCaddyModule } from './caddy';
import { createQuadletModule } from './quadlet';
import { createDockerfileModule } from './dockerfile';
import { createSocketModule } from './socket';
import { createKubernetesModule } from './kubernetes';

/** Data some formats need besides the registry (loaded by the workspace layer: formats stay pure). */
export interface FormatData {
  /** Stock firewalld service definitions; without them the firewalld formats are not offered. */
  firewalldServices?: FirewalldServiceData;
}

export function createFormatModules(registry: PortRegistry, data: FormatData = {}): FormatModule[] {
  return [
    createSshdModule(serviceLookup(registry, 'tcp')),
    // Before nginx: a resolved.conf under a folder named like nginx is still resolved's.
    createResolvedModule(),
    createSocketModule(),
    createApacheModule(),
    createHaproxyModule(),
    createCaddyModule(),
    createQuadletModule(),
    createDockerfileModule(),
    createNginxModule(),
    createComposeModule(),
    // After compose: recognised by content only (apiVersion + kind), never a compose file's name or text.
    createKubernetesModule(),
    createNftablesModule(serviceLookup(registry)),
    ...(data.firewalldServices ? createFirewalldModules(data.firewalldServices, serviceLookup(registry)) : []),
    createIptablesModule(serviceLookup(registry)),
    ...createUfwModules(serviceLookup(registry)),
  ];
}

/** The format of a file, by path first and by content when the path says nothing. */
export function detectFormat(modules: FormatModule[], path: string, text?: string): FormatModule | undefined {
  const byPath = modules.find((m) => m.matchesPath(path));
  if (byPath || text === undefined) return byPath;
  return modules.find((m) => m.matchesContent?.(text));
}

export function moduleById(modules: FormatModule[], id: FormatId): FormatModule | undefined {
  return modules.find((m) => m.id === id);
}
