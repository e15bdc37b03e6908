/**
 * The vocabulary of the analysis core. Everything here is plain data: no I/O, no LSP types.
 * Positions are UTF-16 offsets into the file's text (what JavaScript strings index), end exclusive;
 * the LSP edge turns them into line/character positions.
 */

export interface Span {
  start: number;
  end: number;
}

export type Protocol = 'tcp' | 'udp' | 'sctp';
export type IpFamily = 'ipv4' | 'ipv6';
export type Severity = 'error' | 'warning' | 'information' | 'hint';

/**
 * Diagnostic codes are a public contract: users name them in settings and ignore comments. Each has
 * one rule file, `server/src/rules/<code>.ts`, and the list of codes (`DIAGNOSTIC_CODES`) is derived
 * from the rules (`rules/index.ts`); a new code is added here and gets its rule file there (the
 * compiler and test/unit/rules.test.ts check the two agree).
 */
export type DiagnosticCode =
  | 'syntax'
  | 'invalid-port'
  | 'unknown-service'
  | 'ephemeral-port'
  | 'port-conflict'
  | 'duplicate-default-server'
  | 'duplicate-listen-options'
  | 'firewall-blocked'
  | 'ssh-lockout'
  | 'docker-bypasses-firewall'
  | 'firewall-unused'
  | 'portolan-json'
  | 'not-exposed'
  | 'upstream-unbound';

export interface TextEdit {
  file: string;
  span: Span;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
  preferred?: boolean;
  /**
   * Ports (with protocol) this fix makes a program bind: "Fix all" skips a fix that would take a port
   * an earlier fix of the same run took (two findings fixed onto one free port would collide).
   */
  takes?: { protocol: Protocol; port: number; portEnd: number }[];
}

export interface RelatedLocation {
  file: string;
  span: Span;
  message: string;
}

export interface Finding {
  file: string;
  span: Span;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  related?: RelatedLocation[];
  fixes?: Fix[];
  /** Which of its rule's messages this is (the rule's `meta.messages` names them): code reads this, never the text. */
  messageId?: string;
  /** What the finding is about, as data: code reads this, never the text. */
  data?: FindingData;
}

/** The structured side of a finding. */
export interface FindingData {
  /** The port (first of a range) the finding is about. */
  port?: number;
  /** Last port of a range; equals `port` for a single port. */
  portEnd?: number;
  protocol?: Protocol;
  /** The program the finding is about ('sshd', 'nginx', 'docker', ...). */
  program?: string;
  /** The service name the finding is about (`unknown-service`: the name as written). */
  service?: string;
  /** The other side(s): the places that collide with, block or shadow this one. */
  other?: { file: string; span: Span; program?: string; port?: number; portEnd?: number }[];
  /**
   * A port-conflict without certain evidence that its sides share a machine (`if-one-host`): the glob
   * of each side's project relative to the workspace folder, this side first (the `.portolan.json` fixes write them).
   */
  units?: string[];
}

/**
 * What a port mention means on the host.
 * - listen:    a program binds it (sshd Port, nginx listen)
 * - publish:   Docker binds a host port and forwards it to a container
 * - container: a container-side port (compose target, expose): binds nothing on the host
 * - upstream:  points at another socket (proxy_pass, upstream server): binds nothing
 * - firewall:  a firewall rule or policy about the port: binds nothing
 * - forward:   a firewall DNAT/redirect target: binds nothing
 */
export type FactRole = 'listen' | 'publish' | 'container' | 'upstream' | 'firewall' | 'forward';

export interface PortFact {
  role: FactRole;
  file: string;
  /** The port as written; for an implied port (sshd default 22, nginx server without listen) the directive or block keyword. */
  span: Span;
  protocol: Protocol;
  port: number;
  /** Last port of a range; equals `port` for a single port. */
  portEnd: number;
  /** Address family the bind covers; undefined for role kinds where it does not matter. */
  family?: IpFamily;
  /** Normalized address (no brackets); undefined means the wildcard of `family`. */
  address?: string;
  /** IPv6 socket bound v6-only (so it never collides with IPv4 binds). */
  v6only?: boolean;
  /** The program that owns the socket or the rule: 'sshd', 'nginx', 'docker', 'iptables', ... */
  program: string;
  /** Human label of where it comes from: "server block at line 12", "service web". */
  context: string;
  /** True when nobody wrote the port (a default). */
  implicit?: boolean;
  /** One sentence on what this mention does, for hovers: "allows TCP 443 inbound". */
  detail?: string;
  /**
   * Identifies one running program (the root config file of its instance: one sshd, one nginx, one
   * compose project). Binds of the same instance may share a port the way that program shares it.
   */
  instance?: string;
  /**
   * nginx: this address is bound by its own bind() call even when the same instance also listens on
   * the wildcard of the port (the `bind` parameter, or a socket option that implies it). Without it,
   * nginx serves `listen 127.0.0.1:80` from its `*:80` socket.
   */
  separateBind?: boolean;
  /**
   * The program takes ONE free port of [port, portEnd] at start, the lowest it can bind (compose
   * "8000-8010:80"): it fails only when every port of the range is taken, and which port it holds
   * depends on what started before it.
   */
  oneOf?: boolean;
  /**
   * SO_REUSEPORT is set on the socket (nginx `listen ... reuseport`): two binds that both set it, by
   * the same user, may share the address:port.
   */
  reusePort?: boolean;
  /**
   * SO_REUSEADDR is set on the socket by a program the rules know by its reader (systemd-resolved's stub
   * listeners, every socket a systemd .socket unit binds): two UDP sockets that both set it may share an
   * address:port. nginx, which sets it on every listening socket, is known by name (core/conflicts.ts).
   */
  reuseAddr?: boolean;
  /** compose publish: the service and the container port(s) it forwards to. */
  target?: { service: string; port: number; portEnd: number };
  /**
   * systemd binds this socket for the program named (socket activation: ssh.socket for sshd). On a
   * host with such a socket, the program's own listen settings bind nothing (see `inactive`).
   */
  socketFor?: string;
  /**
   * ssh.socket on a host with Ubuntu's sshd-socket-generator (Ubuntu 24.04+, formats/socket): at every
   * daemon-reload it writes /run/systemd/generator/ssh.socket.d/addresses.conf from sshd_config's
   * Port/ListenAddress, starting with `ListenStream=`. `replaced`: this listen is read before that
   * drop-in, so the generator's reset removes it whenever it writes one; `kept`: read after it, it stays.
   */
  sshGenerator?: 'replaced' | 'kept';
  /**
   * sshd: its config listens the way sshd-socket-generator calls stock (AddressFamily any, every
   * address 0.0.0.0 or ::, port 22), so the generator writes nothing and ssh.socket keeps its own.
   */
  sshStockListen?: boolean;
  /** Why this listen mention binds nothing on its host (set by the host model: sshd_config's Port under ssh.socket). */
  inactive?: string;
  /**
   * Kubernetes: a port the cluster allocates once for all its nodes (a Service's nodePort), with the object that
   * holds it ("Service default/web"); `rules/port-conflict.ts` judges two objects' nodePorts across files.
   */
  clusterPort?: { object: string };
  /**
   * Mentions this one sends its traffic to, as its format resolved them (Kubernetes: a nodePort to its Service
   * port, a Service port to its targetPort, a targetPort to the container ports of the pods its Service selects,
   * a hostPort to its container port): navigation follows them (`features/portSockets.ts`), rules do not.
   */
  pointsTo?: { file: string; span: Span }[];
  /** Kubernetes: the manifest field the port is written in (rename treats each as the cluster does). */
  kubeField?: 'containerPort' | 'hostPort' | 'port' | 'targetPort' | 'nodePort' | 'backend';
  /**
   * Instances that are alternative configurations of one program never run at once (a compose project's base
   * alone and with a layer, `docker compose -f base.yml -f layer.yml`): binds of two instances with the same key
   * never collide (core/conflicts.ts).
   */
  alternative?: string;
  /**
   * An upstream that is one server of a named group (nginx `upstream NAME {}`, HAProxy `backend NAME`): the group's
   * name as written (`rules/upstream-unbound.ts` matches it against compose service names).
   */
  upstreamGroup?: string;
}

/** An include directive as written; the workspace model resolves it to files. */
export interface IncludeRef {
  span: Span;
  pattern: string;
  /**
   * What relative patterns resolve against: the including file's directory, the root config's
   * directory (nginx's conf prefix), or an absolute directory of the system the config runs on
   * (sshd's /etc/ssh), mapped onto the workspace when it mirrors the file system.
   */
  relativeTo: 'including-file-dir' | 'root-file-dir' | string;
  /** Format-specific context the included file is read in (nginx: 'http', 'stream', 'server', ...). */
  context?: string;
  /** The reached file stays a root of its own (a compose layer reads its base, which also runs alone). */
  keepsRoot?: boolean;
  /** The reached file is read, its own includes are not followed from here (a Kubernetes manifest's sibling files). */
  shallow?: boolean;
}

/** Firewall policy and rules in the order the packet meets them (filled by firewall parsers). */
export type FirewallAction = 'accept' | 'drop' | 'reject' | 'return' | 'limit' | 'log' | 'jump' | 'other';

export interface PortRange {
  from: number;
  to: number;
}

export interface FirewallRule {
  span: Span;
  protocol: Protocol | 'any';
  /** Destination ports; undefined = any port. */
  ports?: PortRange[];
  source?: string;
  iface?: string;
  action: FirewallAction;
  family?: IpFamily | 'both';
  /** Human text for the hover (established/related only, loopback, ...); the fields below say the same in structured form. */
  note?: string;
  /** Source ports the rule matches; undefined = any source port. */
  sourcePorts?: PortRange[];
  /** Destination address or network the rule matches; undefined = any destination. */
  destination?: string;
  /**
   * false when the rule only matches packets of existing connections (conntrack/state
   * ESTABLISHED/RELATED without NEW, nft `ct state established,related`); undefined = it matches
   * new connections too.
   */
  matchesNew?: boolean;
  /** The rule matches only packets arriving on the loopback interface (`-i lo`, `iif lo`); `iface` still says it. */
  loopbackOnly?: boolean;
  /** Where the rule sits: iptables/ufw chain name, nftables "family table chain", firewalld zone. */
  chain?: string;
  /**
   * Conditions the parser read but does not evaluate (rate limits, `-m recent`, marks, negations it
   * cannot express, ...), one short phrase each: a rule with any may or may not match a packet.
   */
  unmodelled?: string[];
  /** The file `span` is in, when it is not the firewall instance's root file (an included nft file, ufw's before.rules). */
  file?: string;
  /**
   * The call frame the rule runs in: '' (or the segment's own name) for the hook's chain, then one
   * `>N` per jump that led here. A `return` ends its frame: the packet skips the rest of the rules
   * whose frame is it or starts with it plus `>`.
   */
  frame?: string;
}

/** One base chain on the input hook (nftables has several, met in priority order; each must accept). */
export interface FirewallHook {
  /** "inet filter input". */
  label: string;
  family: IpFamily | 'both';
  priority: number;
  policy: { action: 'accept' | 'drop'; span?: Span; file?: string };
  rules: FirewallRule[];
}

export interface FirewallForward {
  span: Span;
  protocol: Protocol | 'any';
  ports?: PortRange[];
  toAddress?: string;
  toPorts?: PortRange;
  kind: 'dnat' | 'redirect' | 'forward-port';
  /** The family whose packets it meets (an IPv4 DNAT never meets IPv6); undefined: both. */
  family?: IpFamily;
  /** Only packets arriving on this interface (`!eth1`: on any other); `eth+` is a prefix. */
  iface?: string;
  /** Only packets from this source network (`!10.0.0.0/8`: from any other). */
  source?: string;
  /** false: no inbound packet meets it (nat OUTPUT, a chain no prerouting hook reaches). */
  inbound?: boolean;
}

export interface FirewallFacts {
  tool: 'iptables' | 'ufw' | 'nftables' | 'firewalld';
  /** Default verdict for inbound packets no rule decides. */
  inboundPolicy?: { action: 'accept' | 'drop' | 'reject'; span?: Span; family?: IpFamily | 'both'; file?: string };
  enabled?: boolean;
  inputRules: FirewallRule[];
  /** nftables: every input-hook base chain in priority order (inputRules is their rules in one list). */
  hooks?: FirewallHook[];
  /** firewalld: the zone's name, the source addresses and interfaces that bind traffic to it, whether it is the default zone. */
  zone?: { name: string; sources: string[]; interfaces: string[]; isDefault: boolean };
  forwards: FirewallForward[];
}

export type FormatId =
  | 'sshd'
  | 'nginx'
  | 'compose'
  | 'dotenv'
  | 'iptables'
  | 'ufw'
  | 'ufw-app'
  | 'ufw-config'
  | 'nftables'
  | 'firewalld-zone'
  | 'firewalld-service'
  | 'firewalld-config'
  | 'resolved'
  | 'apache'
  | 'haproxy'
  | 'caddy'
  | 'quadlet'
  | 'dockerfile'
  | 'systemd-socket'
  | 'kubernetes';

export interface FileParse {
  format: FormatId;
  file: string;
  facts: PortFact[];
  findings: Finding[];
  includes: IncludeRef[];
  firewall?: FirewallFacts;
  /** Format-specific data that a format's linker needs (kept opaque to the rest of the core). */
  extra?: unknown;
}

/** An assembled program instance: a root file plus the files it includes, in include order. */
export interface InstanceInput {
  root: FileParse;
  /** root first, then included files in the order the program reads them; each file once. */
  files: FileParse[];
  /** Which include directive brought in which file (for formats where the include's position matters). */
  edges: { from: FileParse; ref: IncludeRef; to: FileParse }[];
  /** Includes that lead back into a file being read (the engine stops there; the program may refuse). */
  cycles?: { from: FileParse; ref: IncludeRef; target: string }[];
  /** Includes a bound stopped (too many files in the instance, or nested too deep): not followed. */
  cut?: { from: FileParse; ref: IncludeRef; bound: 'files' | 'depth' }[];
}

export interface InstanceOutput {
  facts: PortFact[];
  findings: Finding[];
  /** The instance's firewall with everything its files say applied (ufw: policy from /etc/default/ufw). */
  firewall?: FirewallFacts;
  /** What every bind's `instance` starts with (nginx: its main config; `instance` adds the module for stream and mail). */
  program?: string;
  /** The services of a compose project, merged across its files (compose's linker fills it). */
  services?: ServiceInfo[];
  /** How the instance runs, for `--list-files` (a compose layer: "compose layer of docker-compose.yml: ..."). */
  note?: string;
  /** Files the instance reached that the program does not read (a compose file beside one that is not its layer): not its files. */
  unread?: string[];
}

/** One service of a compose project: where it is declared first, and how it joins the network. */
export interface ServiceInfo {
  name: string;
  file: string;
  span: Span;
  /** `network_mode` after interpolation (`host` binds the container's ports on the host itself). */
  networkMode?: string;
  /** Bind mounts from the workspace: absolute host-side path (file or directory) -> container path. */
  mounts?: { source: string; target: string }[];
  /** The Dockerfile the service's image is built from (`build:`), when the workspace can hold it. */
  dockerfile?: string;
  /** The container ports the service declares: its mappings' targets and its `expose`, after merging. */
  containerPorts?: { protocol: Protocol; port: number; portEnd: number; published?: { port: number; portEnd: number } }[];
  /** Some mapping target or exposed port could not be read (an unset variable): `containerPorts` may miss some. */
  containerPortsUnknown?: boolean;
}

/** A parse made in steps: each `next()` does a bounded piece of the work; the last returns the parse. */
export type ParseSteps = Generator<void, FileParse, void>;

export interface FormatModule {
  id: FormatId;
  /** Cheap test by path alone; `content` tests the text when the path is ambiguous. */
  matchesPath(path: string): boolean;
  matchesContent?(text: string): boolean;
  /**
   * A file of the workspace its path does not claim (`inFolder`: its path inside the workspace folder): does its
   * text make it this format's (a YAML beside a compose file whose top level is a compose document)? `beside(name)`:
   * the file's directory holds a file of that name. Undefined: the file is no candidate of this format; else the
   * answer and why (`Engine.instanceNotes`, `--list-files`).
   */
  claimByContent?(inFolder: string, text: string, beside: (name: string) => boolean): { claim: boolean; why: string } | undefined;
  /** `context` comes from the IncludeRef that reached the file (undefined for a file read on its own). */
  parse(text: string, file: string, context?: string): FileParse;
  /**
   * The same parse in steps, pausing between them (every few thousand lines): the server drives it in
   * time slices for a big opened document, answering requests between them. Formats whose big files
   * parse fast enough have none.
   */
  parseSteps?(text: string, file: string, context?: string): ParseSteps;
  /**
   * Combines a root file with what it includes into the binds of one running program
   * (sshd's default port, nginx's duplicate-default-server across includes). Without it, facts and
   * findings are concatenated.
   */
  link?(instance: InstanceInput): InstanceOutput;
  /** A file that only makes sense as part of a root (an sshd_config.d fragment) is not a root on its own. */
  isFragment?(path: string): boolean;
  /** Which roots are the configuration the program starts with, and what runs when a host holds none (core/mainConfigs.ts). */
  mains?: MainConfigs;
  /** The edits the rules' quick fixes ask of this format, written in its own syntax (core/fixes.ts). */
  writer?: FormatWriter;
}

/**
 * Main configurations (issue 9, mechanisms 5 and 7). A root the program starts with (nginx.conf, sshd_config)
 * loads what it includes; another root of the format on the same host (a site file, a drop-in) is loaded
 * by no one when the host holds a main configuration, and by the package's stock main configuration when
 * it holds none.
 */
export interface MainConfigs {
  /** The name the program starts with (`nginx.conf`): another main configuration beside it is an alternative (`nginx -c`), not loaded with it. */
  mainName: string;
  /** Whether a root file (parsed on its own) is a main configuration rather than a file a main configuration loads. */
  isMain(root: FileParse): boolean;
  /**
   * The stock main configuration the package installs, when a host holds none: `root` includes those of
   * `fragments` (the host's roots that are not main configurations) it loads (nginx: conf.d/*.conf,
   * sites-enabled/*); `alongside` are other fragments the same program reads from places the workspace does
   * not show (a Dockerfile COPY): their binds share its ports, but nothing says they are loaded together;
   * `unloaded` are fragments it never reads (sshd_config.d/readme: the stock Include reads *.conf), with why.
   * Undefined when it concerns none. `taken(file)`: a path the workspace holds, which the stock root must not take.
   */
  implicitMain(
    fragments: readonly FileParse[],
    taken: (file: string) => boolean,
  ): { root: FileParse; alongside: string[]; unloaded?: { files: string[]; why: string } } | undefined;
}

/**
 * What a format can write for the rules' quick fixes (rules import core only, so they reach a format's
 * `writer.ts` through this). Each operation returns the edits, or undefined when it cannot write it
 * faithfully (the port comes from a variable, a service name, ...): then no fix is offered.
 * Add an operation here when a new kind of fix needs one; formats implement what they can.
 */
export interface FormatWriter {
  /** Rewrites the port a fact names (its span) as `port`, or `port-portEnd` for a range. */
  setPort?(text: string, fact: PortFact, port: number, portEnd: number): TextEdit[] | undefined;
  /** A published port bound on 127.0.0.1 only (compose `127.0.0.1:8080:80`). */
  publishOnLoopback?(text: string, fact: PortFact): TextEdit[] | undefined;
  /**
   * Points an upstream (a proxy's target address) at `port` instead: the written port rewritten, or the port
   * appended to the address where none is written (an implied default).
   */
  setUpstreamPort?(text: string, fact: PortFact, port: number): TextEdit[] | undefined;
  /** A firewall rule that lets new connections to one port in, written in `file` where it takes effect. */
  allowPort?(text: string, file: string, request: AllowRequest): TextEdit[] | undefined;
}

/** What an allow rule must open and where the firewall decides today. */
export interface AllowRequest {
  protocol: 'tcp' | 'udp';
  port: number;
  family: IpFamily;
  /** The rule of this file that decides today: the new rule goes right before it, in its chain. */
  rule?: Span;
  /** The policy of this file that decides (no rule matched): the new rule goes at the end of its chain. */
  policy?: Span;
}
