/**
 * Portolan's own LSP messages, beyond the standard protocol: defined once here and imported by the
 * server (features/portMap.ts, server.ts) and the VS Code client (client/src/, bundled by esbuild).
 * Plain data and method names only: no runtime dependency, so either side can import it.
 * Positions are LSP positions (0-based line, UTF-16 character); files are `file:` URIs.
 */

/** `portolan/portMap` request: every port of one host (or of every host) and what uses it. */
export const PORT_MAP_REQUEST = 'portolan/portMap';

/** `portolan/status` notification, server → client: what the server is doing. */
export const STATUS_NOTIFICATION = 'portolan/status';

export interface PortMapParams {
  /** Only the host this file belongs to. */
  uri?: string;
  /** Only this host (a `PortMapHost.id`). Neither: every host. */
  host?: string;
  /** Hosts with their counts only (`ports` left empty, `portCount` set): what a list of hosts needs, cheap for 1,000 hosts. */
  summary?: boolean;
}

export interface Position {
  line: number;
  character: number;
}

export interface Location {
  uri: string;
  range: { start: Position; end: Position };
}

export type PortMapSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface PortMapResult {
  hosts: PortMapHost[];
}

export interface PortMapHost {
  /** Stable id: the workspace folder, or `folder#name` for a host of `portolan.hosts`. */
  id: string;
  /** What users call it: the host name, or the folder's base name. */
  label: string;
  /** Number of files of this host the server analyses. */
  files: number;
  /** Findings in the files of this host, by severity (after `portolan.ignore` and `portolan.severity`). */
  errors: number;
  warnings: number;
  infos: number;
  /** Every port (or range) of the host, by number (empty in a summary). */
  ports: PortMapEntry[];
  /** Number of ports (or ranges) of the host, also in a summary. */
  portCount: number;
  /** The firewall instances of the host (root file of each). */
  firewalls: { tool: string; location: Location; policy?: string; enabled?: boolean }[];
}

export interface PortMapEntry {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  /** Equals `port` for a single port. */
  portEnd: number;
  /** What the port is known for ("SSH"), if anything. */
  service?: string;
  /** IANA's class of `port`. */
  rangeClass: 'well-known' | 'registered' | 'dynamic';
  /** Programs that bind it: listens and Docker publishes. */
  binds: PortMapUse[];
  /** What points at it: proxy upstreams on this host, firewall forwards. */
  pointers: PortMapUse[];
  /** Firewall rules that name the port. */
  rules: PortMapUse[];
  /** What each firewall of the host does with a new inbound connection to the port. */
  firewall: FirewallVerdict[];
  /** Findings on any of the mentions above. */
  findings: PortMapFinding[];
  /** Some finding is a `port-conflict`. */
  conflict: boolean;
}

export interface PortMapUse {
  role: 'listen' | 'publish' | 'container' | 'upstream' | 'firewall' | 'forward';
  program: string;
  /** One sentence: "nginx listens on 0.0.0.0:80/tcp". */
  label: string;
  /** Path relative to the workspace folder, and line (1-based): "etc/nginx/nginx.conf:12". */
  where: string;
  location: Location;
}

export interface FirewallVerdict {
  tool: string;
  /** The address family the verdict is for ('both': the same for IPv4 and IPv6). */
  family: 'ipv4' | 'ipv6' | 'both';
  /** The file that decides (the rule's or the policy's; the firewall's root when it is off), relative to the workspace folder. */
  where: string;
  verdict: 'accept' | 'drop' | 'reject' | 'disabled' | 'unknown';
  /** What decided: a rule (with its location), the default policy, or the firewall being off. */
  by: 'rule' | 'policy' | 'disabled' | 'none';
  location?: Location;
  /** Rules that accept only some connections ("accept from 10.0.0.0/8 (etc/iptables/rules.v4:8)"), rules whose conditions are not evaluated, "rate-limited". */
  conditional: string[];
}

export interface PortMapFinding {
  code: string;
  severity: PortMapSeverity;
  message: string;
  location: Location;
}

export type ServerState = 'starting' | 'analysing' | 'ready';

export interface ServerStatus {
  state: ServerState;
  /** Files the engine holds. */
  files: number;
  /** Time the last analysis took (ready only). */
  durationMs?: number;
  /** Bumped on every analysis: the client refreshes what it shows when it changes. */
  generation: number;
}
