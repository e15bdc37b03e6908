/**
 * The host model: everything one host runs and filters, as the rules see it. Built by the engine
 * for each host from the linked program instances (`buildHostModel`), cached while those instances
 * keep their link outputs, and read-only for everyone else (`Engine.hostModels()`,
 * `Engine.hostModelOf(file)`). Pure.
 */
import type { NamedRange } from './portRanges';
import type { PortRegistry } from './registry';
import type { HostSharing } from './sharedHost';
import type { DiagnosticCode, Finding, FirewallFacts, FormatId, FormatWriter, InstanceOutput, PortFact, ServiceInfo, Severity } from './types';

/** One running program on the host: a root config file and what it includes (one sshd, one nginx, one compose project, one firewall). */
export interface HostInstance {
  format: FormatId;
  /** The root file of the instance: it names the instance. */
  root: string;
  /** root first, then the files it includes in the order the program reads them. */
  files: readonly string[];
  /** What linking the instance gave: facts of every file it reads (some may sit on another host), findings. */
  output: InstanceOutput;
  /** The instance's firewall (the linked one, else the root file's own), for firewall formats. */
  firewall?: FirewallFacts;
  /**
   * Why this instance binds nothing on its host (core/mainConfigs.ts: a site file no nginx.conf of the host
   * loads, an alternative main config beside nginx.conf): its listens are kept, marked `inactive`.
   */
  inactive?: string;
  /** The root is the package's stock main configuration, which the workspace does not hold (it loads the host's fragments). */
  implicit?: boolean;
  /**
   * The running program this instance's binds belong to on its host (core/mainConfigs.ts: a server file read
   * by the host's stock nginx from a place the workspace does not show): they share ports as its binds do.
   */
  runsAs?: string;
}

/** A firewall instance of the host, with or without port facts (a DROP policy and no rules is a firewall too). */
export interface HostFirewall {
  root: string;
  format: FormatId;
  firewall: FirewallFacts;
}

/** A compose project of the host and its services (merged across its files). */
export interface ComposeProjectInfo {
  root: string;
  services: readonly ServiceInfo[];
}

/**
 * A container's host (a compose service's mounted configs, core/hosts.ts `containerHost`): the compose project it
 * runs in and the service whose network stack it is. Its siblings are reached by service name on the project's
 * network, at their container ports; its loopback is its own.
 */
export interface ContainerInfo {
  project: ComposeProjectInfo;
  service: string;
}

export interface HostModel {
  readonly host: string;
  /** Every program instance that has a file on this host: each joins the host of its root file, and of every fact it gives. */
  readonly instances: readonly HostInstance[];
  /** Every port fact of a file of this host, in instance order. */
  readonly facts: readonly PortFact[];
  /** What takes a port on this host: listeners and published host ports. */
  readonly binds: readonly PortFact[];
  /** Proxies pointing at another socket (proxy_pass, upstream server): bind nothing. */
  readonly upstreams: readonly PortFact[];
  readonly composeProjects: readonly ComposeProjectInfo[];
  /** The firewall of every firewall instance rooted on this host. */
  readonly firewalls: readonly HostFirewall[];
  /** When the host is a whole workspace folder: what it says about which of its files run together (core/sharedHost.ts). */
  readonly sharing?: HostSharing;
  /** When the host is a compose service's container: its project and service. */
  readonly container?: ContainerInfo;
}

/** Settings the rules read. */
export interface RuleSettings {
  ephemeralRanges: NamedRange[];
}

/** What a rule is given besides the host: settings, the port registry, and how to name places in messages. */
export interface RuleContext {
  settings: RuleSettings;
  registry: PortRegistry;
  /** 1-based line of an offset in a file, for messages that name another place. */
  lineOf: (file: string, offset: number) => number;
  /** How a file is named in messages (relative to its workspace folder). */
  shownPath: (file: string) => string;
  /** The current text of a file, for quick fixes that must see how a port is written. */
  textOf?: (file: string) => string | undefined;
  /** The writer of a file's format, for quick fixes (core/fixes.ts). */
  writerOf?: (file: string) => FormatWriter | undefined;
  /** Kubernetes: the nodePort range of the folder holding a file (`.portolan.json` kubernetes.nodePortRange); undefined: 30000-32767. */
  nodePortRangeOf?: (file: string) => { from: number; to: number } | undefined;
}

/** A rule as the engine runs it: created once per analysis with the context, then checked per host. `rules/rule.ts` gives the full shape. */
export interface HostRule {
  readonly meta: { readonly code: DiagnosticCode; readonly severity: Severity };
  create(ctx: RuleContext): (host: HostModel) => Finding[];
}

/** Only what takes a port on this host: listeners and published host ports. */
export function isBind(fact: PortFact): boolean {
  return (fact.role === 'listen' || fact.role === 'publish') && !fact.inactive;
}

/**
 * Socket activation: where systemd binds sockets for a program (ssh.socket for sshd), the program's
 * own listen facts bind nothing on the host; they are kept (hover, references) marked `inactive`.
 * Except under Ubuntu's sshd-socket-generator (`sshGenerator` on the socket's facts, formats/socket):
 * when sshd_config's listens are not the stock ones, the generator writes them into ssh.socket, so
 * they are what binds, and the socket's listens its drop-in resets are the inactive ones.
 */
function applySocketActivation(facts: PortFact[]): PortFact[] {
  const activated = new Map<string, PortFact>();
  for (const f of facts) if (f.socketFor && f.role === 'listen' && !activated.has(f.socketFor)) activated.set(f.socketFor, f);
  if (activated.size === 0) return facts;
  const own = (f: PortFact) => f.role === 'listen' && !f.socketFor && !f.inactive && activated.has(f.program);
  const generated = new Set<string>();
  for (const [program, by] of activated) {
    const config = facts.filter((f) => own(f) && f.program === program);
    if (by.sshGenerator && config.length > 0 && !config.every((f) => f.sshStockListen)) generated.add(program);
  }
  const unitOf = (f: PortFact) => f.context.split(' ')[0];
  return facts.map((f) => {
    if (f.socketFor && generated.has(f.socketFor) && f.sshGenerator === 'replaced') {
      const inactive = `sshd-socket-generator writes ${unitOf(f)}'s ListenStream from sshd_config's Port and ListenAddress (Ubuntu 24.04+), replacing this one`;
      return { ...f, inactive, detail: `${f.detail ?? `systemd listens on port ${f.port}`}: but ${inactive}` };
    }
    if (f.role !== 'listen' || f.socketFor) return f;
    const by = activated.get(f.program);
    if (!by) return f;
    if (generated.has(f.program)) {
      if (f.inactive) return f;
      return { ...f, detail: `${f.detail ?? `${f.program} listens on port ${f.port}`} (bound by ${unitOf(by)}: sshd-socket-generator writes it there)` };
    }
    const unit = unitOf(by);
    const inactive = `${unit} is on this host: systemd binds its Listen sockets for ${f.program} (socket activation), not this setting`;
    return { ...f, inactive, detail: `${f.detail ?? `${f.program} listens on port ${f.port}`}: but ${inactive}` };
  });
}

/**
 * A fact as its instance runs on the host: a listen of an instance that does not run (`inactive`) is kept,
 * binding nothing; the binds of an instance that runs as part of another program (`runsAs`) are that program's.
 */
function asRunning(instance: HostInstance, fact: PortFact): PortFact {
  const why = instance.inactive;
  if (why && fact.role === 'listen' && !fact.inactive)
    return { ...fact, inactive: why, detail: `${fact.detail ?? `${fact.program} listens on port ${fact.port}`}: but ${why}` };
  const own = instance.output.program;
  if (instance.runsAs && own && fact.instance?.startsWith(own)) return { ...fact, instance: instance.runsAs + fact.instance.slice(own.length) };
  return fact;
}

/**
 * The model of `host` from the instances that have a file on it, in the engine's instance order.
 * `hostOf` names the host of a file.
 */
export function buildHostModel(
  host: string,
  instances: readonly HostInstance[],
  hostOf: (file: string) => string,
  sharing?: HostSharing,
  container?: ContainerInfo,
): HostModel {
  const facts: PortFact[] = [];
  const firewalls: HostFirewall[] = [];
  const composeProjects: ComposeProjectInfo[] = [];
  for (const instance of instances) {
    for (const fact of instance.output.facts) if (hostOf(fact.file) === host) facts.push(asRunning(instance, fact));
    if (hostOf(instance.root) !== host) continue;
    if (instance.firewall) firewalls.push({ root: instance.root, format: instance.format, firewall: instance.firewall });
    if (instance.format === 'compose') composeProjects.push({ root: instance.root, services: instance.output.services ?? [] });
  }
  const hostFacts = applySocketActivation(facts);
  return {
    host,
    instances,
    facts: hostFacts,
    binds: hostFacts.filter(isBind),
    upstreams: hostFacts.filter((f) => f.role === 'upstream'),
    composeProjects,
    firewalls,
    sharing,
    container,
  };
}
