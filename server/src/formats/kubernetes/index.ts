/**
 * Kubernetes manifests: YAML objects with `apiVersion` and `kind` (several per file, split by `---`,
 * and the items of a `kind: List`). Read as the API server validates them (k8s.io/kubernetes
 * pkg/apis/core/validation: ValidateService, validateContainerPorts, AccumulateUniqueHostPorts):
 * - workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob):
 *   the pod template's `containers[]` and `initContainers[]` `ports[]`: `containerPort` (1-65535, required),
 *   `hostPort` (0 = none, else 1-65535: binds on the node the pod lands on), `protocol` TCP/UDP/SCTP, `name`.
 * - Service: `spec.ports[]` `port` (1-65535), `targetPort` (a number, or the name of a container port of
 *   the pods the selector picks: resolved for the hover against the pods of the same file), `nodePort`
 *   (0 = allocated; else inside the API server's --service-node-port-range, 30000-32767 by default:
 *   it refuses others, "provided port is not in the valid range": judged by rules/invalid-port.ts with the
 *   folder's `.portolan.json` kubernetes.nodePortRange), `protocol`; `type`.
 * What the API server refuses is an error: ports out of 1-65535, an unknown protocol, two ports of one
 * Service with the same port/protocol or nodePort/protocol, a hostPort twice in one pod, a nodePort on a
 * ClusterIP Service, and two Services of one file with the same nodePort/protocol (the second is
 * refused: "provided port is already allocated"; Services of the same namespace and name are one object).
 * Ingress (networking.k8s.io/v1 `backend.service.port.number|name`, extensions/v1beta1 `serviceName`/`servicePort`):
 * pointers to a Service port, read for navigation only (nothing is judged on them).
 *
 * Scope of one manifest's names and selectors (`link`): the manifests of its directory, and the files the
 * kustomization.yaml of that directory lists (`resources`, `bases`, `components`: files, and directories through
 * their own kustomization.yaml), as if applied together into one namespace; an object's `metadata.namespace`
 * must match the other's only when both say one (kustomize's `namespace:` is not applied). A file with a Service
 * or an Ingress reads those files as shallow includes (their own includes are not followed) and stays a root;
 * it reports only its own facts and findings. Each resolved link is a fact's `pointsTo` (navigation).
 * A cluster is not the workspace's host: none of these facts binds on it (they are `container` facts,
 * judged here, never against nginx or sshd of the folder). Pods sharing a hostPort are placed on different
 * nodes by the scheduler (or stay Pending): Information, as it depends on the nodes.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Node, type Pair } from 'yaml';
import { literalPattern } from '../../core/includes';
import { readYamlSubset } from '../yaml/subset';
import type { FileParse, Finding, FormatModule, IncludeRef, InstanceInput, InstanceOutput, PortFact, Protocol, Severity, Span } from '../../core/types';

export const KUBERNETES_PROGRAM = 'kubernetes';

const WORKLOADS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']);
const KINDS = new Set([...WORKLOADS, 'Service', 'Ingress', 'List']);
/** The names kustomize looks for in a directory (konfig.RecognizedKustomizationFileNames). */
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const PROTOCOLS: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** A top-level `apiVersion:` and a `kind:` the reader knows (and no compose `services:`). */
export function looksLikeKubernetes(text: string): boolean {
  // kubectl reads a file through unicode.BOMOverride (cli-runtime resource.FileVisitor): a leading mark is dropped.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/^services:/m.test(text)) return false;
  const kinds = text.match(/^kind:[ \t]*["']?([A-Za-z]+)["']?[ \t]*(#.*)?$/gm);
  return /^apiVersion:[ \t]*\S/m.test(text) && !!kinds?.some((k) => KINDS.has(k.replace(/^kind:[ \t]*["']?([A-Za-z]+).*$/, '$1')));
}

interface Obj {
  kind: string;
  name: string;
  /** As written (undefined: none, the namespace it is applied into). */
  namespace?: string;
  file: string;
  span: Span;
}

interface ContainerPort {
  obj: Obj;
  container: string;
  name?: string;
  port: number;
  protocol: Protocol;
  hostPort?: { port: number; span: Span; hostIP?: string };
  span: Span;
}

interface Workload {
  obj: Obj;
  labels: Map<string, string>;
  ports: ContainerPort[];
  /** Where it runs is fixed: spec.nodeName; otherwise the scheduler decides. */
  nodeName?: string;
}

interface ServicePort {
  name?: string;
  port?: { value: number; span: Span };
  protocol: Protocol;
  target?: { value: number | string; span: Span };
  nodePort?: { value: number; span: Span };
}

interface Service {
  obj: Obj;
  type: string;
  selector?: Map<string, string>;
  ports: ServicePort[];
}

/** One Ingress backend: the Service it sends to and that Service's port, by number or by name. */
interface Backend {
  obj: Obj;
  service: string;
  port: { value: number | string; span: Span };
}

/** What one manifest file holds, for the link of the files in its scope (`FileParse.extra`). */
interface KubeFile {
  file: string;
  workloads: Workload[];
  services: Service[];
  backends: Backend[];
  /** This file's own facts' findings come from its Reader; the link reads them from the parse. */
}

class Reader {
  readonly findings: Finding[] = [];
  readonly workloads: Workload[] = [];
  readonly services: Service[] = [];
  readonly backends: Backend[] = [];

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  span(node: Node | null | undefined): Span {
    const r = node?.range;
    if (!r) return { start: 0, end: 0 };
    let end = r[1];
    while (end > r[0] && /\s/.test(this.text[end - 1])) end--;
    return { start: r[0], end };
  }

  report(
    node: Node | null | undefined,
    severity: Severity,
    code: 'syntax' | 'invalid-port' | 'port-conflict',
    message: string,
    related?: Finding['related'],
  ): void {
    this.findings.push({ file: this.file, span: this.span(node), severity, code, message, ...(related ? { related } : {}) });
  }

  get(node: Node | null | undefined, key: string): Node | null {
    if (!node || !isMap(node)) return null;
    for (const pair of node.items as Pair<unknown, unknown>[]) if (isScalar(pair.key) && pair.key.value === key) return (pair.value as Node) ?? null;
    return null;
  }

  str(node: Node | null | undefined): string | undefined {
    return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
  }

  labels(node: Node | null): Map<string, string> {
    const out = new Map<string, string>();
    if (!isMap(node)) return out;
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      const v = this.str(pair.value as Node);
      if (isScalar(pair.key) && v !== undefined) out.set(String(pair.key.value), v);
    }
    return out;
  }

  /** An integer field: its value, or undefined with an error when the API server would refuse it. */
  int(node: Node | null, what: string, min: number, allowZero = false): number | undefined {
    if (!isScalar(node) || node.value === null) return undefined;
    const v = node.value;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.report(node, 'error', 'invalid-port', `${what}: ${String(v)} is not a port number (the API server refuses it).`);
      return undefined;
    }
    if (v === 0 && allowZero) return 0;
    if (v < min || v > 65535) {
      this.report(node, 'error', 'invalid-port', `${what}: ${v} is not in 1-65535 (the API server refuses it).`);
      return undefined;
    }
    return v;
  }

  protocol(node: Node | null): Protocol {
    const p = this.str(node);
    if (p === undefined) return 'tcp';
    const proto = PROTOCOLS[p];
    if (!proto) this.report(node, 'error', 'syntax', `protocol: "${p}" is not TCP, UDP or SCTP (the API server refuses it; the value is case-sensitive).`);
    return proto ?? 'tcp';
  }

  object(node: Node | null, depth = 0): void {
    if (!isMap(node) || depth > 4) return;
    const kind = this.str(this.get(node, 'kind'));
    if (!kind || !this.str(this.get(node, 'apiVersion'))) return;
    if (kind === 'List') {
      const items = this.get(node, 'items');
      if (isSeq(items)) for (const item of items.items) this.object(item as Node, depth + 1);
      return;
    }
    const meta = this.get(node, 'metadata');
    const obj: Obj = {
      kind,
      name: this.str(this.get(meta, 'name')) ?? '(unnamed)',
      namespace: this.str(this.get(meta, 'namespace')),
      file: this.file,
      span: this.span(this.get(node, 'kind')),
    };
    const spec = this.get(node, 'spec');
    if (kind === 'Service') this.service(obj, spec);
    else if (kind === 'Ingress') this.ingress(obj, spec);
    else if (WORKLOADS.has(kind)) {
      const template =
        kind === 'Pod' ? node : kind === 'CronJob' ? this.get(this.get(this.get(spec, 'jobTemplate'), 'spec'), 'template') : this.get(spec, 'template');
      if (template) this.workload(obj, template);
    }
  }

  workload(obj: Obj, template: Node): void {
    const podSpec = this.get(template, 'spec');
    const w: Workload = {
      obj,
      labels: this.labels(this.get(this.get(template, 'metadata'), 'labels')),
      ports: [],
      nodeName: this.str(this.get(podSpec, 'nodeName')),
    };
    const seenHost = new Map<string, ContainerPort>();
    for (const list of ['initContainers', 'containers']) {
      const containers = this.get(podSpec, list);
      if (!isSeq(containers)) continue;
      for (const c of containers.items as Node[]) {
        const container = this.str(this.get(c, 'name')) ?? '(unnamed)';
        const ports = this.get(c, 'ports');
        if (!isSeq(ports)) continue;
        for (const p of ports.items as Node[]) {
          const cpNode = this.get(p, 'containerPort');
          const port = this.int(cpNode, 'containerPort', 1);
          const protocol = this.protocol(this.get(p, 'protocol'));
          if (port === undefined) continue;
          const hpNode = this.get(p, 'hostPort');
          const hp = this.int(hpNode, 'hostPort', 1, true);
          const hostIP = this.str(this.get(p, 'hostIP'));
          const cp: ContainerPort = {
            obj,
            container,
            name: this.str(this.get(p, 'name')),
            port,
            protocol,
            span: this.span(cpNode),
            hostPort: hp ? { port: hp, span: this.span(hpNode), hostIP } : undefined,
          };
          if (cp.hostPort) {
            // AccumulateUniqueHostPorts: one pod cannot ask for the same hostPort/protocol twice.
            const key = `${cp.hostPort.port}/${protocol}`;
            const had = seenHost.get(key);
            if (had)
              this.report(
                hpNode,
                'error',
                'port-conflict',
                `hostPort ${key.toUpperCase()} twice in one pod (also container ${had.container}): the API server refuses it (Duplicate value).`,
                [{ file: this.file, span: had.hostPort!.span, message: `hostPort of container ${had.container}` }],
              );
            else seenHost.set(key, cp);
          }
          w.ports.push(cp);
        }
      }
    }
    this.workloads.push(w);
  }

  /** Ingress backends as pointers: nothing is reported on them (the Service they name may live anywhere). */
  ingress(obj: Obj, spec: Node | null): void {
    const backend = (b: Node | null) => {
      const svc = this.get(b, 'service');
      const name = this.str(this.get(svc, 'name')) ?? this.str(this.get(b, 'serviceName'));
      const portNode = svc ? (this.get(this.get(svc, 'port'), 'number') ?? this.get(this.get(svc, 'port'), 'name')) : this.get(b, 'servicePort');
      if (!name || !isScalar(portNode)) return;
      const v = portNode.value;
      const value = typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : typeof v === 'string' && isPortName(v) ? v : undefined;
      if (value !== undefined) this.backends.push({ obj, service: name, port: { value, span: this.span(portNode) } });
    };
    backend(this.get(spec, 'defaultBackend') ?? this.get(spec, 'backend'));
    const rules = this.get(spec, 'rules');
    for (const rule of isSeq(rules) ? (rules.items as Node[]) : []) {
      const paths = this.get(this.get(rule, 'http'), 'paths');
      for (const p of isSeq(paths) ? (paths.items as Node[]) : []) backend(this.get(p, 'backend'));
    }
  }

  service(obj: Obj, spec: Node | null): void {
    const type = this.str(this.get(spec, 'type')) ?? 'ClusterIP';
    const selectorNode = this.get(spec, 'selector');
    const svc: Service = { obj, type, selector: isMap(selectorNode) ? this.labels(selectorNode) : undefined, ports: [] };
    const ports = this.get(spec, 'ports');
    const seenPort = new Map<string, Span>();
    const seenNode = new Map<string, Span>();
    if (isSeq(ports)) {
      for (const p of ports.items as Node[]) {
        const portNode = this.get(p, 'port');
        const port = this.int(portNode, 'port', 1);
        const protocol = this.protocol(this.get(p, 'protocol'));
        const sp: ServicePort = { name: this.str(this.get(p, 'name')), protocol };
        if (port !== undefined) {
          sp.port = { value: port, span: this.span(portNode) };
          const key = `${port}/${protocol}`;
          const had = seenPort.get(key);
          if (had)
            this.report(
              portNode,
              'error',
              'port-conflict',
              `port ${key.toUpperCase()} twice in Service ${obj.name}: the API server refuses it (Duplicate value).`,
              [{ file: this.file, span: had, message: 'the same port' }],
            );
          else seenPort.set(key, sp.port.span);
        }
        const targetNode = this.get(p, 'targetPort');
        if (isScalar(targetNode) && typeof targetNode.value === 'string') {
          // IntOrString: a string is a port name (IANA_SVC_NAME), even when it is all digits.
          if (isPortName(targetNode.value)) sp.target = { value: targetNode.value, span: this.span(targetNode) };
          else
            this.report(
              targetNode,
              'error',
              'invalid-port',
              `targetPort: "${targetNode.value}" is neither a number nor a port name (at most 15 of a-z, 0-9 and -, with a letter): the API server refuses it.`,
            );
        } else {
          const t = this.int(targetNode, 'targetPort', 1);
          if (t !== undefined) sp.target = { value: t, span: this.span(targetNode) };
        }
        const nodeNode = this.get(p, 'nodePort');
        const np = this.int(nodeNode, 'nodePort', 1, true);
        if (np) {
          if (type !== 'NodePort' && type !== 'LoadBalancer')
            this.report(
              nodeNode,
              'error',
              'invalid-port',
              `nodePort on a Service of type ${type}: the API server refuses it (only NodePort and LoadBalancer Services have node ports).`,
            );
          // Its range is the cluster's (--service-node-port-range, `.portolan.json` kubernetes.nodePortRange): rules/invalid-port.ts judges it.
          else {
            const key = `${np}/${protocol}`;
            const had = seenNode.get(key);
            if (had)
              this.report(
                nodeNode,
                'error',
                'port-conflict',
                `nodePort ${key.toUpperCase()} twice in Service ${obj.name}: the API server refuses it (Duplicate value).`,
                [{ file: this.file, span: had, message: 'the same nodePort' }],
              );
            else seenNode.set(key, this.span(nodeNode));
            sp.nodePort = { value: np, span: this.span(nodeNode) };
          }
        }
        svc.ports.push(sp);
      }
    }
    this.services.push(svc);
  }
}

/** IsValidPortName: an IANA service name. */
function isPortName(v: string): boolean {
  return v.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) && !v.includes('--') && /[a-z]/.test(v);
}

const selects = (selector: Map<string, string> | undefined, labels: Map<string, string>): boolean =>
  !!selector && selector.size > 0 && [...selector].every(([k, v]) => labels.get(k) === v);

/** Two objects of one scope share a namespace unless both say one and they differ. */
const sameNamespace = (a: Obj, b: Obj): boolean => a.namespace === undefined || b.namespace === undefined || a.namespace === b.namespace;

function describe(obj: Obj): string {
  return `${obj.kind} ${obj.namespace === undefined || obj.namespace === 'default' ? '' : `${obj.namespace}/`}${obj.name}`;
}

const baseName = (file: string) => file.slice(file.lastIndexOf('/') + 1);
const NO_SPAN: Span = { start: 0, end: 0 };

/**
 * What a manifest with a Service or an Ingress reads to resolve its names: the directory's kustomization (walked:
 * it lists more files) and the directory's YAML files (shallow). All stay roots of their own.
 */
function scopeIncludes(): IncludeRef[] {
  return [
    ...KUSTOMIZATION_NAMES.map((pattern) => ({ span: NO_SPAN, pattern, relativeTo: 'including-file-dir', keepsRoot: true })),
    ...['*.yaml', '*.yml'].map((pattern) => ({ span: NO_SPAN, pattern, relativeTo: 'including-file-dir', keepsRoot: true, shallow: true })),
  ];
}

/**
 * A kustomization's `resources`, `bases` and `components`: a file is read (shallow), a directory through its own
 * kustomization (walked). Remote entries (URLs, git) are not in the workspace.
 */
function kustomizationIncludes(text: string): IncludeRef[] {
  const out: IncludeRef[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  } catch {
    return out;
  }
  const doc = (Array.isArray(docs) ? docs : [docs])[0];
  const top = doc?.contents;
  if (!isMap(top)) return out;
  for (const pair of top.items as Pair<unknown, unknown>[]) {
    if (!isScalar(pair.key) || !['resources', 'bases', 'components'].includes(String(pair.key.value)) || !isSeq(pair.value)) continue;
    for (const item of pair.value.items) {
      if (!isScalar(item) || typeof item.value !== 'string' || !item.range) continue;
      const entry = item.value.trim().replace(/\/+$/, '');
      if (!entry || /^[a-z][a-z0-9+.-]*:\/\/|^git@|^github\.com\//i.test(entry)) continue;
      const span = { start: item.range[0], end: item.range[1] };
      if (/\.(ya?ml|json)$/i.test(entry)) out.push({ span, pattern: literalPattern(entry), relativeTo: 'including-file-dir', keepsRoot: true, shallow: true });
      else
        for (const name of KUSTOMIZATION_NAMES)
          out.push({ span, pattern: `${literalPattern(entry)}/${name}`, relativeTo: 'including-file-dir', keepsRoot: true });
    }
  }
  return out;
}

function parseKubernetes(text: string, file: string): FileParse {
  if (KUSTOMIZATION_NAMES.includes(baseName(file))) return { format: 'kubernetes', file, facts: [], findings: [], includes: kustomizationIncludes(text) };
  const reader = new Reader(text, file);
  let docs;
  try {
    docs = readYamlSubset(text, { prettyErrors: false, uniqueKeys: false }) ?? parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  } catch {
    return { format: 'kubernetes', file, facts: [], findings: [], includes: [] };
  }
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      reader.findings.push({
        file,
        span: { start: err.pos[0], end: Math.max(err.pos[1], err.pos[0]) },
        severity: 'error',
        code: 'syntax',
        message: `YAML: ${err.message.split('\n')[0]}`,
      });
      continue;
    }
    reader.object(doc.contents as Node | null);
  }
  hostPortSharing(reader, file);
  nodePortConflicts(reader, file);
  const own: KubeFile = { file, workloads: reader.workloads, services: reader.services, backends: reader.backends };
  const includes = own.services.length > 0 || own.backends.length > 0 ? scopeIncludes() : [];
  // Alone, a file's names resolve within it; `link` widens that to its scope.
  return { format: 'kubernetes', file, facts: scopeFacts(own, [own]), findings: reader.findings, includes, extra: own };
}

const spanOf = (file: string, span: Span) => ({ file, span });

/** The facts of `own`, its names and selectors resolved against the workloads and Services of `scope` (own included). */
function scopeFacts(own: KubeFile, scope: readonly KubeFile[]): PortFact[] {
  const file = own.file;
  const facts: PortFact[] = [];
  const fact: FactOf = (kubeField, span, protocol, port, context, detail, pointsTo) => ({
    role: 'container',
    kubeField,
    file,
    span,
    protocol,
    port,
    portEnd: port,
    program: KUBERNETES_PROGRAM,
    context,
    detail,
    instance: file,
    ...(pointsTo && pointsTo.length > 0 ? { pointsTo } : {}),
  });
  for (const w of own.workloads) {
    for (const p of w.ports) {
      const named = p.name ? ` (${p.name})` : '';
      facts.push(
        fact(
          'containerPort',
          p.span,
          p.protocol,
          p.port,
          `${describe(w.obj)} container ${p.container}`,
          `container port ${p.port}/${p.protocol}${named} of container ${p.container} in ${describe(w.obj)}`,
        ),
      );
      if (p.hostPort) {
        const where = p.hostPort.hostIP ? `${p.hostPort.hostIP}:${p.hostPort.port}` : String(p.hostPort.port);
        facts.push(
          fact(
            'hostPort',
            p.hostPort.span,
            p.protocol,
            p.hostPort.port,
            `${describe(w.obj)} hostPort`,
            `hostPort: the node ${describe(w.obj)} runs on forwards ${where}/${p.protocol} to container port ${p.port} of ${p.container} (on the cluster's node, not this host)`,
            [spanOf(w.obj.file, p.span)],
          ),
        );
      }
    }
  }
  const workloads = scope.flatMap((f) => f.workloads);
  for (const svc of own.services) {
    const selected = workloads.filter((w) => sameNamespace(w.obj, svc.obj) && selects(svc.selector, w.labels));
    const name = describe(svc.obj);
    for (const p of svc.ports) {
      // targetPort defaults to port: the Service port then leads to the container ports of that number itself.
      const target = p.target ?? (p.port ? { value: p.port.value, span: undefined } : undefined);
      const hits =
        target === undefined
          ? []
          : selected.flatMap((w) =>
              w.ports.filter((cp) => cp.protocol === p.protocol && (typeof target.value === 'number' ? cp.port === target.value : cp.name === target.value)),
            );
      const toContainers = hits.map((h) => spanOf(h.obj.file, h.span));
      if (p.port)
        facts.push(
          fact(
            'port',
            p.port.span,
            p.protocol,
            p.port.value,
            `${name} port`,
            `Service port ${p.port.value}/${p.protocol} of ${name} (cluster-internal, on its cluster IP)`,
            p.target ? [spanOf(file, p.target.span)] : toContainers,
          ),
        );
      if (p.target) {
        const t = p.target.value;
        if (typeof t === 'number')
          facts.push(
            fact(
              'targetPort',
              p.target.span,
              p.protocol,
              t,
              `${name} targetPort`,
              `targetPort: ${name} forwards to container port ${t}/${p.protocol} of its pods`,
              toContainers,
            ),
          );
        else {
          const ports = [...new Set(hits.map((h) => h.port))];
          // A name resolved to one number is a mention of that container port; otherwise the hover of the name says what is known.
          if (ports.length === 1)
            facts.push(
              fact(
                'targetPort',
                p.target.span,
                p.protocol,
                ports[0],
                `${name} targetPort ${t}`,
                `targetPort ${t}: container port ${ports[0]}/${p.protocol} of ${[...new Set(hits.map((h) => `${describe(h.obj)} container ${h.container}`))].join(', ')}`,
                toContainers,
              ),
            );
        }
      }
      if (p.nodePort)
        facts.push({
          ...fact(
            'nodePort',
            p.nodePort.span,
            p.protocol,
            p.nodePort.value,
            `${name} nodePort`,
            `nodePort: every node of the cluster forwards ${p.nodePort.value}/${p.protocol} to ${name} (on the cluster's nodes, not this host)`,
            p.port ? [spanOf(file, p.port.span)] : undefined,
          ),
          clusterPort: { object: `Service ${svc.obj.namespace ?? 'default'}/${svc.obj.name}` },
        });
    }
  }
  for (const f of backendFacts(own, scope, fact)) facts.push(f);
  return facts;
}

type FactOf = (
  kubeField: NonNullable<PortFact['kubeField']>,
  span: Span,
  protocol: Protocol,
  port: number,
  context: string,
  detail: string,
  pointsTo?: PortFact['pointsTo'],
) => PortFact;

/** The Ingress backends of `own` that name a port number, or a port name one Service port of the scope holds. */
function backendFacts(own: KubeFile, scope: readonly KubeFile[], fact: FactOf): PortFact[] {
  const facts: PortFact[] = [];
  const services = scope.flatMap((f) => f.services);
  for (const b of own.backends) {
    const targets = services
      .filter((svc) => svc.obj.name === b.service && sameNamespace(svc.obj, b.obj))
      .flatMap((svc) =>
        svc.ports
          .filter((p) => p.port && (typeof b.port.value === 'number' ? p.port.value === b.port.value : p.name === b.port.value))
          .map((p) => ({ svc, p })),
      );
    const numbers = [...new Set(targets.map((t) => t.p.port!.value))];
    const port = typeof b.port.value === 'number' ? b.port.value : numbers.length === 1 ? numbers[0] : undefined;
    if (port === undefined) continue;
    const protocols = [...new Set(targets.map((t) => t.p.protocol))];
    facts.push(
      fact(
        'backend',
        b.port.span,
        protocols.length === 1 ? protocols[0] : 'tcp',
        port,
        `${describe(b.obj)} backend`,
        `${describe(b.obj)} sends to port ${port}${typeof b.port.value === 'string' ? ` (${b.port.value})` : ''} of Service ${b.service}`,
        targets.map((t) => spanOf(t.svc.obj.file, t.p.port!.span)),
      ),
    );
  }
  return facts;
}

/** A manifest with its scope: its own facts with names resolved across the files it reached; only its own findings. */
function linkKubernetes(input: InstanceInput): InstanceOutput {
  const own = input.root.extra as KubeFile | undefined;
  const root = input.root.file;
  const unread = input.files.filter((f) => f.file !== root).map((f) => f.file);
  if (!own) return { facts: input.root.facts, findings: input.root.findings, unread };
  const scope = input.files.map((f) => f.extra as KubeFile | undefined).filter((x): x is KubeFile => !!x && Array.isArray(x.workloads));
  return { facts: scopeFacts(own, scope), findings: input.root.findings, unread };
}

/** Two Services (not one object twice) with the same nodePort/protocol: the API server refuses the second. */
function nodePortConflicts(reader: Reader, file: string): void {
  const byPort = new Map<string, { svc: Service; span: Span }>();
  for (const svc of reader.services) {
    for (const p of svc.ports) {
      if (!p.nodePort) continue;
      const key = `${p.nodePort.value}/${p.protocol}`;
      const had = byPort.get(key);
      if (!had) {
        byPort.set(key, { svc, span: p.nodePort.span });
        continue;
      }
      if (had.svc === svc) continue; // reported by the Service itself
      if (had.svc.obj.name === svc.obj.name && (had.svc.obj.namespace ?? 'default') === (svc.obj.namespace ?? 'default')) continue; // one object written twice
      reader.findings.push({
        file,
        span: p.nodePort.span,
        severity: 'error',
        code: 'port-conflict',
        message: `nodePort ${key.toUpperCase()} is already ${describe(had.svc.obj)}'s: the API server refuses this Service ("provided port is already allocated").`,
        related: [{ file, span: had.span, message: `nodePort of ${describe(had.svc.obj)}` }],
        data: {
          port: p.nodePort.value,
          portEnd: p.nodePort.value,
          protocol: p.protocol,
          program: KUBERNETES_PROGRAM,
          other: [{ file, span: had.span, program: KUBERNETES_PROGRAM }],
        },
      });
    }
  }
}

/**
 * Pods of different objects asking for one hostPort: the scheduler puts them on different nodes (a node
 * without a free hostPort is filtered out), so they collide only when they must share a node: both pinned
 * to the same spec.nodeName (a warning), or fewer nodes than pods (Information: it depends on the cluster).
 */
function hostPortSharing(reader: Reader, file: string): void {
  const byPort = new Map<string, { w: Workload; p: ContainerPort }>();
  for (const w of reader.workloads) {
    for (const p of w.ports) {
      if (!p.hostPort) continue;
      const key = `${p.hostPort.hostIP ?? '*'}|${p.hostPort.port}/${p.protocol}`;
      const had = byPort.get(key);
      if (!had) {
        byPort.set(key, { w, p });
        continue;
      }
      if (had.w === w) continue;
      const pinned = !!w.nodeName && had.w.nodeName === w.nodeName;
      const what = `hostPort ${p.hostPort.port}/${p.protocol.toUpperCase()}`;
      reader.findings.push({
        file,
        span: p.hostPort.span,
        severity: pinned ? 'warning' : 'information',
        code: 'port-conflict',
        message: pinned
          ? `${what} is also asked by ${describe(had.w.obj)}, and both are pinned to node ${w.nodeName}: one of them cannot start there (it stays Pending).`
          : `${what} is also asked by ${describe(had.w.obj)}: the scheduler puts such pods on different nodes; with too few nodes one stays Pending.`,
        related: [{ file, span: had.p.hostPort!.span, message: `hostPort of ${describe(had.w.obj)}` }],
      });
    }
  }
}

export function createKubernetesModule(): FormatModule {
  return {
    id: 'kubernetes',
    // Manifests have any name (deployment.yaml, k8s/web.yml): recognised by their content only.
    matchesPath: () => false,
    matchesContent: looksLikeKubernetes,
    parse: parseKubernetes,
    link: linkKubernetes,
  };
}
