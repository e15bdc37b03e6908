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
 *   it refuses others, "provided port is not in the valid range"), `protocol`; `type`.
 * What the API server refuses is an error: ports out of range, an unknown protocol, two ports of one
 * Service with the same port/protocol or nodePort/protocol, a hostPort twice in one pod, a nodePort on a
 * ClusterIP Service, and two Services of one file with the same nodePort/protocol (the second is
 * refused: "provided port is already allocated"; Services of the same namespace and name are one object).
 * A cluster is not the workspace's host: none of these facts binds on it (they are `container` facts,
 * judged here, never against nginx or sshd of the folder). Pods sharing a hostPort are placed on different
 * nodes by the scheduler (or stay Pending): Information, as it depends on the nodes.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Node, type Pair } from 'yaml';
import type { FileParse, Finding, FormatModule, PortFact, Protocol, Severity, Span } from '../../core/types';

export const KUBERNETES_PROGRAM = 'kubernetes';

const WORKLOADS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob']);
const KINDS = new Set([...WORKLOADS, 'Service', 'List']);
const PROTOCOLS: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
export const NODE_PORT_RANGE = { from: 30000, to: 32767 };

/** A top-level `apiVersion:` and a `kind:` the reader knows (and no compose `services:`). */
export function looksLikeKubernetes(text: string): boolean {
  if (/^services:/m.test(text)) return false;
  const kinds = text.match(/^kind:[ \t]*["']?([A-Za-z]+)["']?[ \t]*(#.*)?$/gm);
  return /^apiVersion:[ \t]*\S/m.test(text) && !!kinds?.some((k) => KINDS.has(k.replace(/^kind:[ \t]*["']?([A-Za-z]+).*$/, '$1')));
}

interface Obj {
  kind: string;
  name: string;
  namespace: string;
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

class Reader {
  readonly findings: Finding[] = [];
  readonly workloads: Workload[] = [];
  readonly services: Service[] = [];

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
      namespace: this.str(this.get(meta, 'namespace')) ?? 'default',
      span: this.span(this.get(node, 'kind')),
    };
    const spec = this.get(node, 'spec');
    if (kind === 'Service') this.service(obj, spec);
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
          else if (np < NODE_PORT_RANGE.from || np > NODE_PORT_RANGE.to)
            this.report(
              nodeNode,
              'error',
              'invalid-port',
              `nodePort ${np} is outside 30000-32767: the API server refuses it ("provided port is not in the valid range"), unless the cluster's --service-node-port-range was widened.`,
            );
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

function describe(obj: Obj): string {
  return `${obj.kind} ${obj.namespace === 'default' ? '' : `${obj.namespace}/`}${obj.name}`;
}

function parseKubernetes(text: string, file: string): FileParse {
  const reader = new Reader(text, file);
  const facts: PortFact[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  } catch {
    return { format: 'kubernetes', file, facts, findings: [], includes: [] };
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
  const fact = (span: Span, protocol: Protocol, port: number, context: string, detail: string): PortFact => ({
    role: 'container',
    file,
    span,
    protocol,
    port,
    portEnd: port,
    program: KUBERNETES_PROGRAM,
    context,
    detail,
    instance: file,
  });
  for (const w of reader.workloads) {
    for (const p of w.ports) {
      const named = p.name ? ` (${p.name})` : '';
      facts.push(
        fact(
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
            p.hostPort.span,
            p.protocol,
            p.hostPort.port,
            `${describe(w.obj)} hostPort`,
            `hostPort: the node ${describe(w.obj)} runs on forwards ${where}/${p.protocol} to container port ${p.port} of ${p.container} (on the cluster's node, not this host)`,
          ),
        );
      }
    }
  }
  hostPortSharing(reader, file);
  for (const svc of reader.services) {
    const selected = reader.workloads.filter((w) => w.obj.namespace === svc.obj.namespace && selects(svc.selector, w.labels));
    for (const p of svc.ports) {
      const name = describe(svc.obj);
      if (p.port)
        facts.push(
          fact(
            p.port.span,
            p.protocol,
            p.port.value,
            `${name} port`,
            `Service port ${p.port.value}/${p.protocol} of ${name} (cluster-internal, on its cluster IP)`,
          ),
        );
      if (p.target) {
        const t = p.target.value;
        if (typeof t === 'number')
          facts.push(fact(p.target.span, p.protocol, t, `${name} targetPort`, `targetPort: ${name} forwards to container port ${t}/${p.protocol} of its pods`));
        else {
          const hits = selected.flatMap((w) => w.ports.filter((cp) => cp.name === t && cp.protocol === p.protocol));
          const ports = [...new Set(hits.map((h) => h.port))];
          // A name resolved to one number is a mention of that container port; otherwise the hover of the name says what is known.
          if (ports.length === 1)
            facts.push(
              fact(
                p.target.span,
                p.protocol,
                ports[0],
                `${name} targetPort ${t}`,
                `targetPort ${t}: container port ${ports[0]}/${p.protocol} of ${[...new Set(hits.map((h) => `${describe(h.obj)} container ${h.container}`))].join(', ')}`,
              ),
            );
        }
      }
      if (p.nodePort)
        facts.push({
          ...fact(
            p.nodePort.span,
            p.protocol,
            p.nodePort.value,
            `${name} nodePort`,
            `nodePort: every node of the cluster forwards ${p.nodePort.value}/${p.protocol} to ${name} (on the cluster's nodes, not this host)`,
          ),
          clusterPort: { object: `Service ${svc.obj.namespace}/${svc.obj.name}` },
        });
    }
  }
  nodePortConflicts(reader, file);
  return { format: 'kubernetes', file, facts, findings: reader.findings, includes: [] };
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
      if (had.svc.obj.name === svc.obj.name && had.svc.obj.namespace === svc.obj.namespace) continue; // one object written twice
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
  };
}
