/**
 * Port registry: what a port number is known for. Pure: the JSON data is handed in
 * (see workspace/data.ts), so the core never touches the file system.
 */
import type { Protocol } from './types';

export interface IanaData {
  source: string;
  ports: Partial<Record<string, Record<string, [string, string]>>>;
}

export interface CuratedEntry {
  port: number | string;
  protocols: string[];
  name: string;
  description: string;
  listeners?: string;
  /** Ports the service conventionally moves to when its own is taken (80 -> 8080): "Use port N" offers them first. */
  alternates?: number[];
}

export interface CuratedData {
  ports: CuratedEntry[];
}

/** /etc/services as the target host has it (Debian netbase): name -> protocol -> port. */
export interface ServicesData {
  source: string;
  services: Record<string, Partial<Record<string, number>>>;
}

export interface PortInfo {
  /** Short name users recognise ("SSH"). */
  name: string;
  description: string;
  listeners?: string;
  /** IANA service name and description, when registered. */
  iana?: { service: string; description: string };
  source: 'curated' | 'iana';
}

interface CuratedRange {
  from: number;
  to: number;
  protocols: Set<string>;
  entry: CuratedEntry;
}

export class PortRegistry {
  private readonly curated: CuratedRange[];
  private readonly byService = new Map<string, { port: number; protocols: Set<string> }>();
  /** "tcp/22": the ports /etc/services names, per protocol. */
  private readonly servicePorts = new Set<string>();

  constructor(
    private readonly iana: IanaData,
    curated: CuratedData,
    private readonly services?: ServicesData,
  ) {
    this.curated = curated.ports.map((entry) => {
      const [from, to] = String(entry.port).split('-').map(Number);
      return { from, to: to ?? from, protocols: new Set(entry.protocols), entry };
    });
    for (const entry of Object.values(services?.services ?? {}))
      for (const [proto, port] of Object.entries(entry)) if (port !== undefined) this.servicePorts.add(`${proto}/${port}`);
    for (const [proto, table] of Object.entries(iana.ports)) {
      for (const [port, [service]] of Object.entries(table ?? {})) {
        const key = service.toLowerCase();
        const known = this.byService.get(key);
        if (!known) this.byService.set(key, { port: Number(port), protocols: new Set([proto]) });
        else if (known.port === Number(port)) known.protocols.add(proto);
      }
    }
  }

  get ianaSource(): string {
    return this.iana.source;
  }

  /** The single ports our curated data names (the ones users meet most), for completion lists. */
  curatedPorts(protocol: Protocol): number[] {
    return this.curated.filter((c) => c.from === c.to && c.protocols.has(protocol)).map((c) => c.from);
  }

  /**
   * Whether the port is a well-known service's, as "Use port N" avoids it: one our curated data names
   * (the services users meet, at any port), or in the system range below 1024 one /etc/services names
   * (IANA's registry without that data). Above 1024 /etc/services and IANA keep long tails of old
   * registrations (tproxy 8081) that would push every choice away from the original port, so they do not count.
   */
  isWellKnown(protocol: Protocol, port: number): boolean {
    if (this.curated.some((c) => port >= c.from && port <= c.to && c.protocols.has(protocol))) return true;
    if (port >= 1024) return false;
    return this.services ? this.servicePorts.has(`${protocol}/${port}`) : this.iana.ports[protocol]?.[String(port)] !== undefined;
  }

  /** The ports the service on `port` conventionally moves to when its own is taken (curated: 443 -> 8443). */
  alternatesOf(protocol: Protocol, port: number): number[] {
    return this.curated.find((c) => c.from === port && c.to === port && c.protocols.has(protocol))?.entry.alternates ?? [];
  }

  lookup(protocol: Protocol, port: number): PortInfo | undefined {
    const ianaEntry = this.iana.ports[protocol]?.[String(port)];
    const iana = ianaEntry ? { service: ianaEntry[0], description: ianaEntry[1] } : undefined;
    const curated = this.curated.find((c) => port >= c.from && port <= c.to && c.protocols.has(protocol));
    if (curated) {
      return { name: curated.entry.name, description: curated.entry.description, listeners: curated.entry.listeners, iana, source: 'curated' };
    }
    if (iana) return { name: iana.service, description: iana.description, iana, source: 'iana' };
    return undefined;
  }

  /**
   * Resolves a service name ("ssh", "https") to its port as getservbyname() does on the target
   * host: /etc/services only, case-sensitive (without that data, the IANA registry answers).
   */
  serviceToPort(name: string, protocol?: Protocol): number | undefined {
    if (this.services) {
      const entry = Object.prototype.hasOwnProperty.call(this.services.services, name) ? this.services.services[name] : undefined;
      return entry ? (protocol ? entry[protocol] : Object.values(entry)[0]) : undefined;
    }
    const known = this.byService.get(name.toLowerCase());
    if (!known) return undefined;
    if (protocol && !known.protocols.has(protocol)) return undefined;
    return known.port;
  }

  /** The names serviceToPort resolves (for the protocol, when given): what a "Use NAME" fix may offer. */
  serviceNames(protocol?: Protocol): string[] {
    if (this.services) return Object.keys(this.services.services).filter((n) => this.serviceToPort(n, protocol) !== undefined);
    return [...this.byService.entries()].filter(([, v]) => !protocol || v.protocols.has(protocol)).map(([n]) => n);
  }
}

/** "TCP 22 — SSH" */
export function portTitle(protocol: string, port: number, portEnd: number, info?: PortInfo): string {
  const num = portEnd !== port ? `${port}-${portEnd}` : String(port);
  return `${protocol.toUpperCase()} ${num}${info ? ` — ${info.name}` : ''}`;
}
