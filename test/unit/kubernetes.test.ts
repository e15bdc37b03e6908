/** Kubernetes manifests (issue 15): ports with exact spans, what the API server refuses, nodePort conflicts, a cluster apart from the host. */
import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { detectFormat, createFormatModules } from '../../server/src/formats/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { readPortolanJson } from '../../server/src/core/portolanJson';

const F = 'k8s/app.yaml';
const facts = (text: string, file = F) => {
  const e = engineWith({ [file]: text });
  return e
    .analyze()
    .facts.map(({ fact }) => fact)
    .filter((f) => f.program === 'kubernetes')
    .map((f) => `${text.slice(f.span.start, f.span.end)} ${f.port}/${f.protocol} ${f.context}`);
};
const findings = (files: Record<string, string>) => shownFindings(engineWith(files)).map((f) => [f.line, f.severity, f.code, f.text]);
const hover = (files: Record<string, string>, file: string, needle: string, nth = 0) =>
  hoverAt(engineWith(files), `/ws/${file}`, offsetOf(files[file], needle, nth), parseEphemeralRanges(undefined))!.markdown;

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: app
          image: nginx
          ports:
            - name: http
              containerPort: 8080
            - containerPort: 9090
              protocol: UDP
              hostPort: 9999
`;
const SERVICE = (nodePort: number | string, name = 'web', type = 'NodePort') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: ${type}
  selector:
    app: web
  ports:
    - port: 80
      targetPort: http
      nodePort: ${nodePort}
`;

describe('Kubernetes manifests', () => {
  it('reads containerPort, hostPort, Service port, named targetPort (resolved through the selector) and nodePort, with exact spans', () => {
    assert.deepStrictEqual(facts(`${DEPLOY}---\n${SERVICE(30080)}`), [
      '8080 8080/tcp Deployment web container app',
      '9090 9090/udp Deployment web container app',
      '9999 9999/udp Deployment web hostPort',
      '80 80/tcp Service web port',
      'http 8080/tcp Service web targetPort http',
      '30080 30080/tcp Service web nodePort',
    ]);
  });

  it('hovers say what each port does; the named targetPort names the container port it resolves to', () => {
    const files = { [F]: `${DEPLOY}---\n${SERVICE(30080)}` };
    assert.match(hover(files, F, 'http', 1), /targetPort http: container port 8080\/tcp of Deployment web container app/);
    assert.match(hover(files, F, '30080'), /every node of the cluster forwards 30080\/tcp to Service web/);
    assert.match(hover(files, F, '9999'), /the node Deployment web runs on forwards 9999\/udp to container port 9090/);
  });

  it('a named targetPort no selected pod names gives no fact (the pods may be elsewhere), and no finding', () => {
    const text = SERVICE(30080).replace('targetPort: http', 'targetPort: metrics');
    assert.deepStrictEqual(facts(text), ['80 80/tcp Service web port', '30080 30080/tcp Service web nodePort']);
    assert.deepStrictEqual(findings({ [F]: text }), []);
  });

  it('Pod, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and the items of a List', () => {
    const pod = (kind: string, spec: string) => `apiVersion: v1\nkind: ${kind}\nmetadata: {name: x}\nspec:\n${spec}`;
    const containers = (indent: string) => `${indent}containers:\n${indent}  - name: c\n${indent}    ports: [{containerPort: 53, protocol: SCTP}]\n`;
    assert.deepStrictEqual(facts(pod('Pod', containers('  '))), ['53 53/sctp Pod x container c']);
    for (const kind of ['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'])
      assert.deepStrictEqual(facts(pod(kind, `  template:\n    spec:\n${containers('      ')}`)), [`53 53/sctp ${kind} x container c`]);
    assert.deepStrictEqual(facts(pod('CronJob', `  jobTemplate:\n    spec:\n      template:\n        spec:\n${containers('          ')}`)), [
      '53 53/sctp CronJob x container c',
    ]);
    const list = `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p, namespace: ops}\n    spec:\n${containers('      ')}`;
    assert.deepStrictEqual(facts(list), ['53 53/sctp Pod ops/p container c']);
  });

  it('errors where the API server refuses: ports out of range, unknown protocol, a nodePort outside 30000-32767 or on a ClusterIP Service, a digits-only string targetPort', () => {
    const bad = DEPLOY.replace('containerPort: 8080', 'containerPort: 70000').replace('protocol: UDP', 'protocol: udp');
    assert.deepStrictEqual(findings({ [F]: bad }), [
      [19, 'error', 'invalid-port', '70000'],
      [21, 'error', 'syntax', 'udp'],
    ]);
    assert.deepStrictEqual(findings({ [F]: SERVICE(8080) }), [[12, 'error', 'invalid-port', '8080']]);
    assert.deepStrictEqual(findings({ [F]: SERVICE(32768) }), [[12, 'error', 'invalid-port', '32768']]);
    assert.deepStrictEqual(findings({ [F]: SERVICE(30080, 'web', 'ClusterIP') }), [[12, 'error', 'invalid-port', '30080']]);
    assert.deepStrictEqual(findings({ [F]: SERVICE(30080).replace('targetPort: http', 'targetPort: "8080"') }), [[11, 'error', 'invalid-port', '"8080"']]);
    // Silent at the edges of what it accepts: 30000, 32767, nodePort 0 (allocated), LoadBalancer, a quoted-free numeric targetPort.
    for (const ok of [
      SERVICE(30000),
      SERVICE(32767),
      SERVICE(0),
      SERVICE(31000, 'web', 'LoadBalancer'),
      SERVICE(30080).replace('targetPort: http', 'targetPort: 8080'),
    ])
      assert.deepStrictEqual(findings({ [F]: ok }), []);
  });

  it('two Services with the same nodePort/protocol conflict (the second is refused); another protocol, or the same Service written twice, does not', () => {
    const two = `${SERVICE(30080)}---\n${SERVICE(30080, 'api')}`;
    const got = shownFindings(engineWith({ [F]: two }));
    assert.deepStrictEqual(
      got.map((f) => [f.line, f.severity, f.code, f.text]),
      [[25, 'error', 'port-conflict', '30080']],
    );
    assert.match(got[0].message, /already Service web's: the API server refuses this Service \("provided port is already allocated"\)/);
    assert.deepStrictEqual(findings({ [F]: `${SERVICE(30080)}---\n${SERVICE(30080, 'api').replace('- port: 80', '- port: 80\n      protocol: UDP')}` }), []);
    assert.deepStrictEqual(findings({ [F]: `${SERVICE(30080)}---\n${SERVICE(30080)}` }), []);
  });

  it('the same port or nodePort twice in one Service, the same hostPort twice in one pod: refused', () => {
    const svc = `apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  ports:\n    - {name: a, port: 80, nodePort: 30001}\n    - {name: b, port: 80, nodePort: 30001}\n`;
    assert.deepStrictEqual(findings({ [F]: svc }), [
      [8, 'error', 'port-conflict', '80'],
      [8, 'error', 'port-conflict', '30001'],
    ]);
    const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      ports: [{containerPort: 80, hostPort: 8080}]\n    - name: b\n      ports: [{containerPort: 81, hostPort: 8080}]\n`;
    assert.deepStrictEqual(findings({ [F]: pod }), [[9, 'error', 'port-conflict', '8080']]);
  });

  it('hostPort shared by two workloads: Information (the scheduler spreads them), a warning when both are pinned to one node', () => {
    const pod = (name: string, node = '') =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${node ? `  nodeName: ${node}\n` : ''}  containers:\n    - name: c\n      ports: [{containerPort: 80, hostPort: 8080}]\n`;
    assert.deepStrictEqual(findings({ [F]: `${pod('a')}---\n${pod('b')}` }), [[15, 'information', 'port-conflict', '8080']]);
    assert.deepStrictEqual(findings({ [F]: `${pod('a', 'n1')}---\n${pod('b', 'n1')}` }), [[17, 'warning', 'port-conflict', '8080']]);
    assert.deepStrictEqual(findings({ [F]: `${pod('a', 'n1')}---\n${pod('b', 'n2')}` }), [[17, 'information', 'port-conflict', '8080']]);
  });

  it('a cluster is not the host: a nodePort or hostPort never conflicts with nginx or compose of the folder', () => {
    const host = {
      'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 30080; listen 9999; listen 8080; } }\n',
      'compose.yaml': 'services:\n  x:\n    image: y\n    ports: ["30080:80", "9999:9999/udp"]\n',
    };
    const without = shownFindings(engineWith(host));
    const withManifest = shownFindings(engineWith({ ...host, [F]: `${DEPLOY}---\n${SERVICE(30080)}` }));
    assert.deepStrictEqual(withManifest, without);
  });

  it('detection: manifests by content; compose files never read as manifests, manifests never as compose', () => {
    const modules = createFormatModules(loadRegistry());
    const id = (p: string, t: string) => detectFormat(modules, p, t)?.id;
    assert.strictEqual(id('/ws/deploy/web.yaml', DEPLOY), 'kubernetes');
    assert.strictEqual(id('/ws/deploy/web.yml', `# comment\n${SERVICE(30080)}`), 'kubernetes');
    // A compose file by name stays compose, whatever it holds; a compose text under another name is not a manifest.
    assert.strictEqual(id('/ws/compose.yaml', DEPLOY), 'compose');
    assert.strictEqual(id('/ws/stack.yml', 'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'), 'compose');
    // Other YAML with apiVersion/kind (a Kustomization, a Chart.yaml, a CRD) is not read.
    assert.strictEqual(id('/ws/k/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n'), undefined);
    assert.strictEqual(id('/ws/chart/Chart.yaml', 'apiVersion: v2\nname: x\nversion: 1.0.0\n'), undefined);
  });

  it('a Helm template is a template: one Information, no facts', () => {
    const tpl = SERVICE(30080).replace('nodePort: 30080', 'nodePort: {{ .Values.service.nodePort }}');
    assert.deepStrictEqual(facts(tpl, 'chart/templates/service.yaml'), []);
    assert.deepStrictEqual(findings({ 'chart/templates/service.yaml': tpl }), [[12, 'information', 'syntax', '{{ .Values.service.nodePort }}']]);
  });

  it('bad YAML is a syntax error, not a crash; a manifest without ports gives nothing', () => {
    assert.deepStrictEqual(
      findings({ [F]: 'apiVersion: v1\nkind: Service\nspec: [\n' }).map((f) => f.slice(1, 3)),
      [['error', 'syntax']],
    );
    assert.deepStrictEqual(findings({ [F]: 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n' }), []);
  });
});

describe('Kubernetes nodePorts across manifest files', () => {
  const svc = (name: string, nodePort: number, protocol = 'TCP') =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  type: NodePort\n  ports:\n    - port: 80\n      protocol: ${protocol}\n      nodePort: ${nodePort}\n`;
  const conflicts = (files: Record<string, string>) =>
    shownFindings(engineWith(files))
      .filter((f) => f.code === 'port-conflict')
      .map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, f.messageId, f.text]);

  it('two Services of one directory with the same nodePort: an error on each side, naming the other', () => {
    const got = shownFindings(engineWith({ 'k8s/web.yaml': svc('web', 30080), 'k8s/api.yaml': svc('api', 30080) })).filter((f) => f.code === 'port-conflict');
    assert.deepStrictEqual(got.map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, f.messageId, f.text]).sort(), [
      ['k8s/api.yaml', 10, 'error', 'node-port', '30080'],
      ['k8s/web.yaml', 10, 'error', 'node-port', '30080'],
    ]);
    assert.match(
      got.find((f) => f.file.endsWith('web.yaml'))!.message,
      /also Service default\/api's \(k8s\/api\.yaml:10\): the API server refuses the second Service/,
    );
  });

  it('different directories: Information (they may go to different clusters); the same Service in a base and an overlay, or another protocol: nothing', () => {
    assert.deepStrictEqual(conflicts({ 'base/web.yaml': svc('web', 30080), 'other/api.yaml': svc('api', 30080) }).sort(), [
      ['base/web.yaml', 10, 'information', 'node-port-if-one-cluster', '30080'],
      ['other/api.yaml', 10, 'information', 'node-port-if-one-cluster', '30080'],
    ]);
    assert.deepStrictEqual(conflicts({ 'base/web.yaml': svc('web', 30080), 'overlays/prod/web.yaml': svc('web', 30080) }), []);
    assert.deepStrictEqual(conflicts({ 'k8s/web.yaml': svc('web', 30080), 'k8s/dns.yaml': svc('dns', 30080, 'UDP') }), []);
    assert.deepStrictEqual(conflicts({ 'k8s/web.yaml': svc('web', 30080), 'k8s/api.yaml': svc('api', 30081) }), []);
  });
});

describe('Kubernetes nodePort range of a widened cluster (.portolan.json kubernetes.nodePortRange)', () => {
  const withRange = (range: string | undefined, nodePort: number, folder = '/ws') => {
    const files: Record<string, string> = { [F]: SERVICE(nodePort) };
    if (range !== undefined) files['.portolan.json'] = JSON.stringify({ kubernetes: { nodePortRange: range } });
    const e = engineWith(files, folder);
    // The folder's .portolan.json as the edges hand it to the hosts (server: applyHosts; CLI: collect).
    const config = range === undefined ? undefined : readPortolanJson(files['.portolan.json']).config;
    e.hosts.setFolders([{ folder, hosts: {}, ...config }]);
    return shownFindings(e).map((f) => [f.line, f.severity, f.code, f.text, f.message]);
  };

  it('the default 30000-32767 without one; the message says where to widen it', () => {
    const [f] = withRange(undefined, 20000);
    assert.deepStrictEqual(f.slice(0, 4), [12, 'error', 'invalid-port', '20000']);
    assert.match(String(f[4]), /outside 30000-32767: the API server refuses it .*"kubernetes": \{"nodePortRange"/);
    assert.deepStrictEqual(withRange(undefined, 30080), []);
  });

  it('a widened range: silent inside it (and no false error below 30000), an error outside naming the setting', () => {
    assert.deepStrictEqual(withRange('20000-40000', 20000), []);
    assert.deepStrictEqual(withRange('20000-40000', 40000), []);
    const [f] = withRange('20000-40000', 40001);
    assert.deepStrictEqual(f.slice(0, 4), [12, 'error', 'invalid-port', '40001']);
    assert.match(String(f[4]), /outside 20000-40000 \(\.portolan\.json kubernetes\.nodePortRange\)/);
    // A narrowed one too, and a bad value falls back to the default (with its finding on .portolan.json).
    assert.deepStrictEqual(
      withRange('31000+10', 30080).map((x) => x[3]),
      ['30080'],
    );
    assert.deepStrictEqual(
      withRange('wide', 20000)
        .map((x) => [x[2], x[3]])
        .sort(),
      [
        ['invalid-port', '20000'],
        ['portolan-json', '"wide"'],
      ],
    );
  });

  it('two Services of one directory on one widened nodePort still conflict', () => {
    const e = engineWith({ 'k8s/a.yaml': SERVICE(20080, 'a'), 'k8s/b.yaml': SERVICE(20080, 'b') });
    e.hosts.setFolders([{ folder: '/ws', hosts: {}, kubernetes: { nodePortRange: { from: 20000, to: 40000 } } }]);
    assert.deepStrictEqual(
      shownFindings(e).map((f) => [f.file.replace('/ws/', ''), f.severity, f.code]),
      [
        ['k8s/a.yaml', 'error', 'port-conflict'],
        ['k8s/b.yaml', 'error', 'port-conflict'],
      ],
    );
  });
});

describe('Kubernetes names across the manifests of one app', () => {
  const factsOf = (files: Record<string, string>, file: string) => {
    const e = engineWith(files);
    return (e.analyze().factsByFile.get(`/ws/${file}`) ?? []).map((f) => `${files[file].slice(f.span.start, f.span.end)} ${f.port}/${f.protocol} ${f.context}`);
  };
  const NAMED = 'http 8080/tcp Service web targetPort http';

  it('a named targetPort resolves against the workloads of the same directory, and of the files its kustomization lists', () => {
    assert.ok(factsOf({ 'k8s/deploy.yaml': DEPLOY, 'k8s/service.yaml': SERVICE(30080) }, 'k8s/service.yaml').includes(NAMED));
    const kustomized = {
      'base/deploy.yaml': DEPLOY,
      'prod/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/deploy.yaml\n  - service.yaml\n',
      'prod/service.yaml': SERVICE(30080),
    };
    assert.ok(factsOf(kustomized, 'prod/service.yaml').includes(NAMED));
    // Not listed, not beside: unresolved (the Service's other facts stay).
    const apart = factsOf({ 'base/deploy.yaml': DEPLOY, 'other/service.yaml': SERVICE(30080) }, 'other/service.yaml');
    assert.deepStrictEqual(apart, ['80 80/tcp Service web port', '30080 30080/tcp Service web nodePort']);
    // A remote kustomize resource is not in the workspace: nothing read, nothing reported.
    const remote = {
      'prod/kustomization.yaml': 'resources:\n  - https://github.com/x/y//base?ref=v1\n  - service.yaml\n',
      'prod/service.yaml': SERVICE(30080),
    };
    assert.deepStrictEqual(factsOf(remote, 'prod/service.yaml'), apart);
    assert.deepStrictEqual(findings(remote), []);
  });

  it('kustomizations that list each other end (each file read once); the names still resolve', () => {
    const files = {
      'a/kustomization.yaml': 'resources:\n  - ../b\n  - service.yaml\n',
      'a/service.yaml': SERVICE(30080),
      'b/kustomization.yaml': 'resources:\n  - ../a\n  - deploy.yaml\n',
      'b/deploy.yaml': DEPLOY,
    };
    assert.ok(factsOf(files, 'a/service.yaml').includes(NAMED));
    assert.deepStrictEqual(findings(files), []);
  });

  it('namespaces must match only when both say one', () => {
    const ns = (text: string, n: string) => text.replace(/^metadata:\n/m, `metadata:\n  namespace: ${n}\n`);
    const svc = (d: string, s: string) =>
      factsOf({ 'k8s/deploy.yaml': d, 'k8s/service.yaml': s }, 'k8s/service.yaml').some(
        (f) => f.startsWith('http 8080/tcp ') && f.endsWith(' targetPort http'),
      );
    assert.strictEqual(svc(ns(DEPLOY, 'shop'), ns(SERVICE(30080), 'shop')), true);
    assert.strictEqual(svc(ns(DEPLOY, 'shop'), SERVICE(30080)), true);
    assert.strictEqual(svc(DEPLOY, ns(SERVICE(30080), 'shop')), true);
    assert.strictEqual(svc(ns(DEPLOY, 'shop'), ns(SERVICE(30080), 'blog')), false);
  });

  it('splitting one app over files changes no finding; an edit of the workload re-resolves the Service', () => {
    const one = { 'k8s/app.yaml': `${DEPLOY}---\n${SERVICE(30080)}` };
    const split = { 'k8s/deploy.yaml': DEPLOY, 'k8s/service.yaml': SERVICE(30080) };
    assert.deepStrictEqual(
      findings(one).map((f) => f.slice(1)),
      findings(split).map((f) => f.slice(1)),
    );
    const e = engineWith(split);
    const named = () => (e.analyze().factsByFile.get('/ws/k8s/service.yaml') ?? []).filter((f) => f.context.endsWith('targetPort http')).map((f) => f.port);
    assert.deepStrictEqual(named(), [8080]);
    e.setFile('/ws/k8s/deploy.yaml', DEPLOY.replace('containerPort: 8080', 'containerPort: 8181'));
    assert.deepStrictEqual(named(), [8181]);
    e.deleteFile('/ws/k8s/deploy.yaml');
    assert.deepStrictEqual(named(), []);
  });

  it('the hover of a mention lists the others the cluster links with it, across files', () => {
    const files = { 'k8s/deploy.yaml': DEPLOY, 'k8s/service.yaml': SERVICE(30080) };
    const text = hover(files, 'k8s/service.yaml', '30080');
    assert.match(
      text,
      /Linked in the cluster:\n- Service port 80\/tcp of Service web .*service\.yaml:10.*\n- targetPort http: container port 8080\/tcp of Deployment web container app .*service\.yaml:11.*\n- container port 8080\/tcp \(http\) of container app in Deployment web .*deploy\.yaml:19/,
    );
    assert.doesNotMatch(hover({ 'k8s/deploy.yaml': DEPLOY, 'other/service.yaml': SERVICE(30080) }, 'other/service.yaml', '30080'), /deploy\.yaml/);
  });

  it('Ingress backends are pointers to a Service port, by number or by name; nothing is reported on them', () => {
    const ingress = (port: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  defaultBackend:\n    service:\n      name: web\n      port:\n        ${port}\n`;
    const files = { 'k8s/service.yaml': SERVICE(30080).replace('    - port: 80\n', '    - name: front\n      port: 80\n') };
    assert.deepStrictEqual(factsOf({ ...files, 'k8s/ingress.yaml': ingress('number: 80') }, 'k8s/ingress.yaml'), ['80 80/tcp Ingress web backend']);
    assert.deepStrictEqual(factsOf({ ...files, 'k8s/ingress.yaml': ingress('name: front') }, 'k8s/ingress.yaml'), ['front 80/tcp Ingress web backend']);
    // A name no Service of the scope has: no number to show. A Service elsewhere: the number is still a mention.
    assert.deepStrictEqual(factsOf({ 'k8s/ingress.yaml': ingress('name: front') }, 'k8s/ingress.yaml'), []);
    assert.deepStrictEqual(factsOf({ 'k8s/ingress.yaml': ingress('number: 80') }, 'k8s/ingress.yaml'), ['80 80/tcp Ingress web backend']);
    assert.deepStrictEqual(findings({ 'k8s/ingress.yaml': ingress('number: 99999') }), []);
  });

  it('a manifest starting with a UTF-8 byte-order mark is a manifest (kubectl drops the mark): the same facts, no finding', () => {
    const modules = createFormatModules(loadRegistry());
    assert.strictEqual(detectFormat(modules, '/ws/deploy/web.yaml', `\ufeff${DEPLOY}`)?.id, 'kubernetes');
    assert.strictEqual(detectFormat(modules, '/ws/deploy/web.yaml', `\ufeff${SERVICE(30080)}`)?.id, 'kubernetes');
    const plain = facts(DEPLOY);
    assert.ok(plain.length > 0);
    assert.deepStrictEqual(facts(`\ufeff${DEPLOY}`), plain);
    assert.deepStrictEqual(findings({ [F]: `\ufeff${DEPLOY}` }), findings({ [F]: DEPLOY }));
  });
});
