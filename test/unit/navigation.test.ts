/**
 * Moving around a host by its ports (issue 12): references, definition, rename, symbols, completion,
 * code lens, inlay hints and document links, on an engine over in-memory files. Each feature is
 * checked where it answers and where it must stay empty or refuse.
 */
import * as assert from 'assert';
import type { Location } from 'vscode-languageserver';
import { defaultSettings } from '../../server/src/core/engine';
import { provideCodeLenses } from '../../server/src/features/codeLens';
import { provideCompletion } from '../../server/src/features/completion';
import { provideDefinition } from '../../server/src/features/definition';
import { provideDocumentLinks } from '../../server/src/features/documentLinks';
import { provideDocumentSymbols } from '../../server/src/features/documentSymbols';
import { provideInlayHints } from '../../server/src/features/inlayHints';
import { provideReferences } from '../../server/src/features/references';
import { providePrepareRename, provideRename } from '../../server/src/features/rename';
import { provideWorkspaceSymbols } from '../../server/src/features/workspaceSymbols';
import { applyEdits, engineWith, offsetOf } from '../helpers/engine';

const WEB: Record<string, string> = {
  'etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n',
  'etc/nginx/conf.d/app.conf':
    'server {\n  listen 80;\n  location / { proxy_pass http://127.0.0.1:8080; }\n  location /x { proxy_pass http://10.0.0.5:8080; }\n}\n',
  'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports:\n      - "8080:3000"\n      - 9000-9001:9000-9001\n',
  'etc/iptables/rules.v4':
    '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 8080 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n-A INPUT -p tcp --dport 8000:8999 -j ACCEPT\nCOMMIT\n',
};

function setup(files: Record<string, string>) {
  const engine = engineWith(files);
  const abs = (f: string) => `/ws/${f}`;
  const at = (f: string, needle: string, nth = 0) => engine.lineIndex(abs(f)).position(offsetOf(engine.text(abs(f))!, needle, nth, 1));
  const shown = (locs: Location[]) => locs.map((l) => `${l.uri.replace('file:///ws/', '')}:${l.range.start.line + 1}:${l.range.start.character + 1}`).sort();
  /** Applies a rename's WorkspaceEdit to the engine's texts: file -> new text. */
  const renamed = (f: string, needle: string, newName: string, nth = 0): Record<string, string> | string => {
    const result = provideRename(engine, abs(f), at(f, needle, nth), newName);
    if ('error' in result) return result.error;
    const out: Record<string, string> = {};
    for (const [uri, edits] of Object.entries(result.changes ?? {})) {
      const file = uri.replace('file://', '');
      const index = engine.lineIndex(file);
      out[file.replace('/ws/', '')] = applyEdits(
        engine.text(file)!,
        edits.map((e) => ({
          span: { start: index.offset(e.range.start.line, e.range.start.character), end: index.offset(e.range.end.line, e.range.end.character) },
          newText: e.newText,
        })),
      );
    }
    return out;
  };
  return { engine, abs, at, shown, renamed };
}

describe('navigation: references and definition', () => {
  it('lists every use of a published port: the publish, the container port behind it, the proxy_pass to it, the firewall rule', () => {
    const { engine, abs, at, shown } = setup(WEB);
    assert.deepStrictEqual(shown(provideReferences(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '8080'))), [
      'etc/iptables/rules.v4:3:25',
      'etc/iptables/rules.v4:5:25',
      'etc/nginx/conf.d/app.conf:3:44',
      'srv/compose.yaml:5:10',
      'srv/compose.yaml:5:15',
    ]);
    // Without the declaration: the mention under the cursor is left out.
    assert.strictEqual(provideReferences(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '8080'), false).length, 4);
  });

  it('keeps an upstream to another machine apart from the host port of the same number, and a container port apart from host ports', () => {
    const { engine, abs, at, shown } = setup(WEB);
    assert.deepStrictEqual(shown(provideReferences(engine, abs('etc/nginx/conf.d/app.conf'), at('etc/nginx/conf.d/app.conf', '8080', 1))), [
      'etc/nginx/conf.d/app.conf:4:44',
    ]);
    assert.deepStrictEqual(shown(provideReferences(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '3000'))), [
      'srv/compose.yaml:5:10',
      'srv/compose.yaml:5:15',
    ]);
  });

  it('answers nothing away from a port', () => {
    const { engine, abs, at } = setup(WEB);
    assert.deepStrictEqual(provideReferences(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', 'image')), []);
    assert.deepStrictEqual(provideReferences(engine, '/ws/not-there', { line: 0, character: 0 }), []);
  });

  it('goes from a proxy_pass and from a firewall rule to the bind, and nowhere from the bind itself', () => {
    const { engine, abs, at, shown } = setup(WEB);
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('etc/nginx/conf.d/app.conf'), at('etc/nginx/conf.d/app.conf', '8080'))), [
      'srv/compose.yaml:5:10',
    ]);
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('etc/iptables/rules.v4'), at('etc/iptables/rules.v4', '80,'))), [
      'etc/nginx/conf.d/app.conf:2:10',
    ]);
    assert.deepStrictEqual(provideDefinition(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '8080')), []);
    // A rule for a port nothing binds has no definition.
    assert.deepStrictEqual(provideDefinition(engine, abs('etc/iptables/rules.v4'), at('etc/iptables/rules.v4', '443')), []);
  });
});

describe('navigation: rename', () => {
  it('renames the compose host port, the proxy_pass to it and the firewall rule, not the container port nor the upstream elsewhere', () => {
    const { renamed } = setup(WEB);
    const out = renamed('srv/compose.yaml', '8080', '8081');
    assert.ok(typeof out !== 'string', String(out));
    assert.deepStrictEqual(Object.keys(out).sort(), ['etc/iptables/rules.v4', 'etc/nginx/conf.d/app.conf', 'srv/compose.yaml']);
    assert.match(out['srv/compose.yaml'], /- "8081:3000"/);
    assert.match(out['etc/nginx/conf.d/app.conf'], /127\.0\.0\.1:8081;/);
    assert.match(out['etc/nginx/conf.d/app.conf'], /10\.0\.0\.5:8080;/);
    assert.match(out['etc/iptables/rules.v4'], /--dport 8081 -j ACCEPT/);
    // The range 8000:8999 holds both ports: left as it is.
    assert.match(out['etc/iptables/rules.v4'], /--dport 8000:8999/);
  });

  it('renames one port of a multiport rule and the listen it opens', () => {
    const { renamed } = setup(WEB);
    const out = renamed('etc/nginx/conf.d/app.conf', '80', '8088');
    assert.ok(typeof out !== 'string', String(out));
    assert.match(out['etc/iptables/rules.v4'], /--dports 8088,443 /);
    assert.match(out['etc/nginx/conf.d/app.conf'], /listen 8088;/);
  });

  it('refuses what would be ambiguous or not a port, with a reason', () => {
    const { engine, abs, at, renamed } = setup({ ...WEB, 'etc/ssh/sshd_config': 'Port 8080\n' });
    const prepare = providePrepareRename(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '8080'));
    assert.ok('error' in prepare);
    assert.match(prepare.error, /Ambiguous: TCP 8080 is bound by .*sshd.* and docker|Ambiguous: TCP 8080 is bound by docker .* and sshd/);
    assert.match(String(renamed('srv/compose.yaml', '8080', '8081')), /Ambiguous/);
    assert.match(String(renamed('etc/nginx/conf.d/app.conf', '80', 'http')), /not a port/);
    assert.match(String(renamed('etc/nginx/conf.d/app.conf', '80', '70000')), /not a port/);
    assert.match(String(renamed('etc/nginx/conf.d/app.conf', '80', '9001')), /^TCP 9001 is already bound by docker \(srv\/compose\.yaml:6\)\.$/);
    // sshd listens on 8080 here, so 22 is free: the rename goes through.
    const to22 = renamed('etc/nginx/conf.d/app.conf', '80', '22');
    assert.ok(typeof to22 !== 'string', String(to22));
    assert.match(to22['etc/nginx/conf.d/app.conf'], /listen 22;/);
  });

  it('refuses a container port, a range, an implicit port and a new port outside a range that opens the old one', () => {
    const { engine, abs, at, renamed } = setup({ ...WEB, 'etc/ssh/sshd_config': 'PasswordAuthentication no\n' });
    const container = providePrepareRename(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '3000'));
    assert.ok('error' in container && /container port/.test(container.error));
    const range = providePrepareRename(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '9000'));
    assert.ok('error' in range && /range/.test(range.error));
    assert.match(String(renamed('srv/compose.yaml', '8080', '9500')), /The range 8000-8999 .* holds 8080 but not 9500/);
    // sshd without Port listens on 22.
    assert.match(String(renamed('etc/nginx/conf.d/app.conf', '80', '22')), /^TCP 22 is already bound by sshd \(etc\/ssh\/sshd_config:1\)\.$/);
    const ok = providePrepareRename(engine, abs('srv/compose.yaml'), at('srv/compose.yaml', '8080'));
    assert.ok(!('error' in ok) && ok.placeholder === '8080');
  });

  it('rewrites a ufw tuple and its -A lines in user.rules and user6.rules together, a service name as a number', () => {
    const rules = (v6: boolean) =>
      `*filter\n:ufw${v6 ? '6' : ''}-user-input - [0:0]\n### RULES ###\n\n### tuple ### allow tcp 22 ${v6 ? '::/0' : '0.0.0.0/0'} any ${v6 ? '::/0' : '0.0.0.0/0'} in\n-A ufw${v6 ? '6' : ''}-user-input -p tcp --dport 22 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n`;
    const { renamed } = setup({ 'etc/ssh/sshd_config': 'Port ssh\n', 'etc/ufw/user.rules': rules(false), 'etc/ufw/user6.rules': rules(true) });
    const out = renamed('etc/ssh/sshd_config', 'ssh', '2222');
    assert.ok(typeof out !== 'string', String(out));
    assert.strictEqual(out['etc/ssh/sshd_config'], 'Port 2222\n');
    assert.strictEqual(out['etc/ufw/user.rules'], rules(false).replace(/ 22 /g, ' 2222 '));
    assert.strictEqual(out['etc/ufw/user6.rules'], rules(true).replace(/ 22 /g, ' 2222 '));
  });

  it('refuses where firewalld opens the port through a service, and where sshd only has its default', () => {
    const zone = '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="ssh"/>\n  <port port="8080" protocol="tcp"/>\n</zone>\n';
    const { renamed, engine, abs, at } = setup({ 'etc/ssh/sshd_config': 'Port 22\n', 'etc/firewalld/zones/public.xml': zone });
    assert.match(String(renamed('etc/ssh/sshd_config', '22', '2222')), /firewalld service 'ssh'/);
    const out = renamed('etc/firewalld/zones/public.xml', '8080', '8081');
    assert.ok(typeof out !== 'string', String(out));
    assert.match(out['etc/firewalld/zones/public.xml'], /port="8081" protocol="tcp"/);
    const implicit = setup({
      'etc/ssh/sshd_config': 'PasswordAuthentication no\n',
      'etc/nftables.conf': 'table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport 22 accept\n }\n}\n',
    });
    assert.match(String(implicit.renamed('etc/nftables.conf', '22', '2222')), /default port 22 .* not written/);
    assert.ok(!('error' in providePrepareRename(engine, abs('etc/ssh/sshd_config'), at('etc/ssh/sshd_config', '22'))));
  });
});

describe('navigation: symbols', () => {
  it('outlines a file by what holds its ports', () => {
    const { engine, abs } = setup(WEB);
    const nginx = provideDocumentSymbols(engine, abs('etc/nginx/conf.d/app.conf'));
    assert.deepStrictEqual(
      nginx.map((s) => [s.name, s.children!.map((c) => `${c.name} ${c.detail}`)]),
      [
        [
          'server block at line 1 of app.conf',
          ['80/tcp listen · HTTP', '8080/tcp points at 127.0.0.1 · HTTP alternate', '8080/tcp points at 10.0.0.5 · HTTP alternate'],
        ],
      ],
    );
    for (const s of nginx) for (const c of s.children!) assert.ok(c.range.start.line >= s.range.start.line && c.range.end.line <= s.range.end.line);
    const compose = provideDocumentSymbols(engine, abs('srv/compose.yaml'));
    assert.deepStrictEqual(
      compose.map((s) => [s.name, s.children!.map((c) => c.name)]),
      [['service app', ['8080/tcp', '3000/tcp', '9000-9001/tcp', '9000-9001/tcp']]],
    );
    assert.deepStrictEqual(
      provideDocumentSymbols(engine, abs('etc/iptables/rules.v4')).map((s) => s.name),
      ['filter INPUT'],
    );
    assert.deepStrictEqual(provideDocumentSymbols(engine, abs('etc/nginx/nginx.conf')), []);
  });

  it('finds ports across hosts by number and by name', () => {
    const { engine } = setup(WEB);
    const names = (q: string) => provideWorkspaceSymbols(engine, q).map((s) => `${s.name} @ ${s.containerName}`);
    assert.deepStrictEqual(names('443'), ['443/tcp HTTPS @ ws · iptables filter INPUT']);
    assert.ok(names('3000').includes('3000/tcp @ ws · docker service app') || names('3000').some((n) => n.startsWith('3000/tcp')));
    assert.ok(names('https').length === 1);
    assert.deepStrictEqual(names('postgres'), []);
    const db = setup({ ...WEB, 'srv/db/compose.yaml': 'services:\n  db:\n    image: postgres:16\n    ports:\n      - "127.0.0.1:5432:5432"\n' }).engine;
    assert.deepStrictEqual(
      provideWorkspaceSymbols(db, 'postgres').map((s) => `${s.name} @ ${s.containerName}`),
      ['5432/tcp PostgreSQL @ ws · docker service db', '5432/tcp PostgreSQL @ ws · docker service db'],
    );
  });
});

describe('navigation: completion', () => {
  const eph = defaultSettings().ephemeralRanges;
  it('offers free ports first after nginx listen, the taken ones last saying by whom', () => {
    const { engine, abs } = setup({ ...WEB, 'etc/nginx/conf.d/new.conf': 'server {\n  listen \n}\n' });
    const items = provideCompletion(engine, abs('etc/nginx/conf.d/new.conf'), { line: 1, character: 9 }, eph);
    const sorted = [...items].sort((a, b) => a.sortText!.localeCompare(b.sortText!));
    const i8080 = sorted.findIndex((i) => i.label === '8080');
    const i8081 = sorted.findIndex((i) => i.label === '8081');
    assert.ok(i8081 >= 0 && i8080 > i8081, 'the free 8081 before the taken 8080');
    assert.match(sorted[i8080].detail!, /taken by docker \(srv\/compose.yaml:5\)/);
    assert.match(sorted[i8081].detail!, /free on this host/);
    assert.ok(!items.some((i) => i.label === 'ssh'), 'nginx takes no service names');
    assert.deepStrictEqual(provideCompletion(engine, abs('etc/nginx/conf.d/new.conf'), { line: 0, character: 7 }, eph), []);
  });

  it('offers service names where the format takes them, the host bound ports first after --dport and dport', () => {
    const { engine, abs } = setup({
      ...WEB,
      'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport \nCOMMIT\n',
      'etc/nftables.conf': 'table inet f {\n chain input {\n  tcp dport \n }\n}\n',
      'etc/ssh/sshd_config': 'Port \n',
    });
    for (const [file, position] of [
      ['etc/iptables/rules.v4', { line: 2, character: 24 }],
      ['etc/nftables.conf', { line: 2, character: 12 }],
    ] as const) {
      const items = provideCompletion(engine, abs(file), position, eph).sort((a, b) => a.sortText!.localeCompare(b.sortText!));
      const bound = items.filter((i) => i.sortText!.startsWith('0'));
      assert.deepStrictEqual(
        bound.map((i) => i.label).filter((l) => /^\d+$/.test(l)),
        ['22', '80', '8080', '9000'],
        file,
      );
      assert.match(bound.find((i) => i.label === '80')!.detail!, /bound by nginx/);
      assert.ok(
        items.some((i) => i.label === 'ssh'),
        `${file}: service names`,
      );
    }
    assert.ok(provideCompletion(engine, abs('etc/ssh/sshd_config'), { line: 0, character: 5 }, eph).some((i) => i.label === 'ssh'));
  });

  it('completes a compose ports item and a firewalld port attribute, and nothing elsewhere in them', () => {
    const { engine, abs } = setup({
      'srv/compose.yaml': 'services:\n  app:\n    image: x\n    ports:\n      - \n    environment:\n      - \n',
      'etc/firewalld/zones/public.xml': '<zone>\n  <port port="" protocol="tcp"/>\n</zone>\n',
    });
    assert.ok(provideCompletion(engine, abs('srv/compose.yaml'), { line: 4, character: 8 }, eph).length > 0);
    assert.deepStrictEqual(provideCompletion(engine, abs('srv/compose.yaml'), { line: 6, character: 8 }, eph), []);
    assert.ok(provideCompletion(engine, abs('etc/firewalld/zones/public.xml'), { line: 1, character: 14 }, eph).length > 0);
    assert.deepStrictEqual(provideCompletion(engine, abs('etc/firewalld/zones/public.xml'), { line: 1, character: 26 }, eph), []);
  });
});

describe('navigation: code lens, inlay hints, document links', () => {
  it('counts the other uses of each bind and says what the firewall does', () => {
    const { engine, abs } = setup(WEB);
    assert.deepStrictEqual(
      provideCodeLenses(engine, abs('srv/compose.yaml')).map((l) => l.command!.title),
      ['4 uses · open in iptables', '1 use · blocked by iptables'],
    );
    const lens = provideCodeLenses(engine, abs('srv/compose.yaml'))[0];
    assert.strictEqual(lens.command!.command, 'portolan.showReferences');
    assert.strictEqual((lens.command!.arguments![2] as Location[]).length, 4);
    assert.deepStrictEqual(provideCodeLenses(engine, abs('etc/iptables/rules.v4')), [], 'rules are not binds');
  });

  it('names the service after bare numbers only', () => {
    const { engine, abs } = setup({ 'etc/ssh/sshd_config': 'Port 22\nPort ssh\nPort 47123\n' });
    const hints = provideInlayHints(engine, abs('etc/ssh/sshd_config'), { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } });
    assert.deepStrictEqual(
      hints.map((h) => [h.position.line, h.label]),
      [[0, '‹ssh›']],
    );
  });

  it('links an include to the file it reads, and nothing where nothing is included', () => {
    const { engine, abs } = setup(WEB);
    const links = provideDocumentLinks(engine, abs('etc/nginx/nginx.conf'));
    assert.deepStrictEqual(
      links.map((l) => [l.range.start.line, l.target]),
      [[2, 'file:///ws/etc/nginx/conf.d/app.conf']],
    );
    assert.deepStrictEqual(provideDocumentLinks(engine, abs('etc/nginx/conf.d/app.conf')), []);
  });
});

describe('navigation: inactive settings (sshd_config under ssh.socket)', () => {
  const SOCKET: Record<string, string> = {
    'etc/ssh/sshd_config': 'Port 2222\n',
    'etc/systemd/system/ssh.socket.d/port.conf': '[Socket]\nListenStream=\nListenStream=2222\n',
    'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 2222 -j ACCEPT\nCOMMIT\n',
  };

  it('lists the inactive Port among the references, and goes to the socket from the rule', () => {
    const { engine, abs, at, shown } = setup(SOCKET);
    assert.deepStrictEqual(shown(provideReferences(engine, abs('etc/iptables/rules.v4'), at('etc/iptables/rules.v4', '2222'))), [
      'etc/iptables/rules.v4:3:25',
      'etc/ssh/sshd_config:1:6',
      'etc/systemd/system/ssh.socket.d/port.conf:3:14',
    ]);
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('etc/iptables/rules.v4'), at('etc/iptables/rules.v4', '2222'))), [
      'etc/systemd/system/ssh.socket.d/port.conf:3:14',
    ]);
  });

  it('renames the socket and the rule, not the Port sshd does not use; refuses to start on that Port', () => {
    const { engine, abs, at, renamed } = setup(SOCKET);
    const out = renamed('etc/systemd/system/ssh.socket.d/port.conf', '2222', '2233');
    assert.ok(typeof out !== 'string', String(out));
    assert.deepStrictEqual(Object.keys(out).sort(), ['etc/iptables/rules.v4', 'etc/systemd/system/ssh.socket.d/port.conf']);
    assert.strictEqual(out['etc/systemd/system/ssh.socket.d/port.conf'], '[Socket]\nListenStream=\nListenStream=2233\n');
    assert.match(out['etc/iptables/rules.v4'], /--dport 2233 -j ACCEPT/);
    assert.deepStrictEqual(renamed('etc/iptables/rules.v4', '2222', '2233'), out, 'the same from the rule');
    const prepare = providePrepareRename(engine, abs('etc/ssh/sshd_config'), at('etc/ssh/sshd_config', '2222'));
    assert.ok('error' in prepare);
    assert.match(prepare.error, /^This sshd setting binds nothing: ssh\.socket is on this host: .*socket activation.*Rename the port where it is bound\.$/);
  });

  it('marks the inactive Port in the code lens and the outline', () => {
    const { engine, abs } = setup(SOCKET);
    assert.deepStrictEqual(
      provideCodeLenses(engine, abs('etc/ssh/sshd_config')).map((l) => l.command!.title),
      ['2 uses · binds nothing here (inactive)'],
    );
    assert.deepStrictEqual(
      provideCodeLenses(engine, abs('etc/systemd/system/ssh.socket.d/port.conf')).map((l) => l.command!.title),
      // ListenStream=2222 is the IPv6 wildcard taking IPv4 too (BindIPv6Only=default): iptables judges it.
      ['2 uses · open in iptables'],
    );
    const outline = provideDocumentSymbols(engine, abs('etc/ssh/sshd_config'));
    assert.match(outline[0].children![0].detail!, /inactive \(binds nothing\)$/);
    // Without the socket, the same Port is an ordinary bind.
    const plain = setup({ 'etc/ssh/sshd_config': 'Port 2222\n' });
    assert.deepStrictEqual(
      provideCodeLenses(plain.engine, plain.abs('etc/ssh/sshd_config')).map((l) => l.command!.title),
      ['0 uses'],
    );
    assert.doesNotMatch(provideDocumentSymbols(plain.engine, plain.abs('etc/ssh/sshd_config'))[0].children![0].detail!, /inactive/);
  });
});

/** Kubernetes (issue 15): the mentions the cluster links, across the manifests of one directory and a kustomization's files. */
const K8S_DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: nginx
          ports:
            - name: http
              containerPort: 8080
            - containerPort: 9090
              hostPort: 19090
`;
const K8S_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
    - name: web
      port: 80
      targetPort: http
      nodePort: 30080
    - name: metrics
      port: 9090
      targetPort: 9090
`;
const K8S_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`;

describe('navigation: Kubernetes mentions linked as the cluster routes', () => {
  const files = { 'k8s/deployment.yaml': K8S_DEPLOY, 'k8s/service.yaml': K8S_SERVICE, 'k8s/ingress.yaml': K8S_INGRESS };

  it('references: nodePort, Service port, named targetPort, container port and the Ingress backend are one chain, across files', () => {
    const { engine, abs, at, shown } = setup(files);
    const chain = ['k8s/deployment.yaml:17:30', 'k8s/ingress.yaml:15:27', 'k8s/service.yaml:10:13', 'k8s/service.yaml:11:19', 'k8s/service.yaml:12:17'];
    for (const [f, needle] of [
      ['k8s/service.yaml', '30080'],
      ['k8s/service.yaml', 'http'],
      ['k8s/deployment.yaml', '8080'],
      ['k8s/ingress.yaml', '80'],
    ])
      assert.deepStrictEqual(shown(provideReferences(engine, abs(f), at(f, needle))), chain, `${f} ${needle}`);
    // The other item of the Service is its own chain: port 9090 -> targetPort 9090 -> container port 9090 <- hostPort.
    assert.deepStrictEqual(shown(provideReferences(engine, abs('k8s/service.yaml'), at('k8s/service.yaml', 'targetPort: 9090', 0))), []);
    assert.deepStrictEqual(shown(provideReferences(engine, abs('k8s/service.yaml'), at('k8s/service.yaml', '9090', 1))), [
      'k8s/deployment.yaml:18:30',
      'k8s/deployment.yaml:19:25',
      'k8s/service.yaml:14:13',
      'k8s/service.yaml:15:19',
    ]);
  });

  it('definition goes one step on: Ingress -> Service port -> targetPort -> container port; nodePort -> port; hostPort -> container port', () => {
    const { engine, abs, at, shown } = setup(files);
    const def = (f: string, needle: string, nth = 0) => shown(provideDefinition(engine, abs(f), at(f, needle, nth)));
    assert.deepStrictEqual(def('k8s/ingress.yaml', '80'), ['k8s/service.yaml:10:13']);
    assert.deepStrictEqual(def('k8s/service.yaml', '30080'), ['k8s/service.yaml:10:13']);
    assert.deepStrictEqual(def('k8s/service.yaml', 'port: 80', 0).length, 0);
    assert.deepStrictEqual(def('k8s/service.yaml', '80'), ['k8s/service.yaml:11:19']);
    assert.deepStrictEqual(def('k8s/service.yaml', 'http'), ['k8s/deployment.yaml:17:30']);
    assert.deepStrictEqual(def('k8s/deployment.yaml', '19090'), ['k8s/deployment.yaml:18:30']);
    assert.deepStrictEqual(def('k8s/deployment.yaml', '8080'), []);
  });

  it('a Service elsewhere, of another namespace, or selecting other labels links to nothing', () => {
    for (const [name, service] of [
      ['other directory', { 'other/service.yaml': K8S_SERVICE }],
      ['other namespace', { 'k8s/service.yaml': K8S_SERVICE.replace('name: web\nspec', 'name: web\n  namespace: b\nspec') }],
      ['other labels', { 'k8s/service.yaml': K8S_SERVICE.replace('selector: {app: web}', 'selector: {app: api}') }],
    ] as const) {
      const deploy = name === 'other namespace' ? K8S_DEPLOY.replace('name: web\nspec', 'name: web\n  namespace: a\nspec') : K8S_DEPLOY;
      const { engine, abs, at, shown } = setup({ 'k8s/deployment.yaml': deploy, ...service });
      const file = Object.keys(service)[0];
      const line = deploy.split('\n').findIndex((l) => l.includes('containerPort: 8080')) + 1;
      assert.deepStrictEqual(
        shown(provideReferences(engine, abs('k8s/deployment.yaml'), at('k8s/deployment.yaml', '8080'))),
        [`k8s/deployment.yaml:${line}:30`],
        name,
      );
      assert.deepStrictEqual(shown(provideDefinition(engine, abs(file), at(file, '9090', 1))), [], name);
    }
  });

  it('a kustomization of the directory brings in the files it lists, from other directories too', () => {
    const { engine, abs, at, shown } = setup({
      'base/deployment.yaml': K8S_DEPLOY,
      'overlay/kustomization.yaml': 'resources:\n  - ../base/deployment.yaml\n  - service.yaml\n',
      'overlay/service.yaml': K8S_SERVICE,
      'elsewhere/service.yaml': K8S_SERVICE,
    });
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('overlay/service.yaml'), at('overlay/service.yaml', 'http'))), ['base/deployment.yaml:17:30']);
    // elsewhere/ lists nothing: its named targetPort stays unresolved (no fact), its numeric one leads nowhere.
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('elsewhere/service.yaml'), at('elsewhere/service.yaml', 'http'))), []);
    assert.deepStrictEqual(shown(provideDefinition(engine, abs('elsewhere/service.yaml'), at('elsewhere/service.yaml', '9090', 1))), []);
    // A directory entry is read through its own kustomization.
    const dir = setup({
      'base/deployment.yaml': K8S_DEPLOY,
      'base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'overlay/kustomization.yaml': 'resources:\n  - ../base\n',
      'overlay/service.yaml': K8S_SERVICE,
    });
    assert.deepStrictEqual(dir.shown(provideDefinition(dir.engine, dir.abs('overlay/service.yaml'), dir.at('overlay/service.yaml', 'http'))), [
      'base/deployment.yaml:17:30',
    ]);
  });

  it('rename of a container port rewrites the numeric targetPorts pointing at it; a named one follows the name', () => {
    const { renamed } = setup(files);
    const out = renamed('k8s/deployment.yaml', '9090', '9191');
    assert.ok(typeof out !== 'string', String(out));
    assert.deepStrictEqual(Object.keys(out).sort(), ['k8s/deployment.yaml', 'k8s/service.yaml']);
    assert.ok(out['k8s/deployment.yaml'].includes('containerPort: 9191\n              hostPort: 19090'));
    assert.ok(out['k8s/service.yaml'].includes('port: 9090\n      targetPort: 9191'));
    // From the numeric targetPort: the same edits.
    assert.deepStrictEqual(renamed('k8s/service.yaml', '9090', '9191', 1), out);
    const named = renamed('k8s/deployment.yaml', '8080', '8081');
    assert.ok(typeof named !== 'string', String(named));
    assert.deepStrictEqual(Object.keys(named), ['k8s/deployment.yaml']);
  });

  it('rename refuses with a reason: a targetPort reaching two pods, a Service without targetPort, the other fields', () => {
    const second = K8S_DEPLOY.replace('name: web\nspec', 'name: web2\nspec');
    const two = setup({ ...files, 'k8s/deployment2.yaml': second });
    assert.match(
      String(two.renamed('k8s/deployment.yaml', '9090', '9191')),
      /^Ambiguous: the targetPort at k8s\/service\.yaml:15 also leads to the container port at k8s\/deployment2\.yaml:18/,
    );
    assert.match(String(two.renamed('k8s/service.yaml', '9090', '9191', 1)), /^Ambiguous: this targetPort leads to 2 container ports/);
    const implicit = setup({ 'k8s/deployment.yaml': K8S_DEPLOY, 'k8s/service.yaml': K8S_SERVICE.replace('      targetPort: 9090\n', '') });
    assert.match(String(implicit.renamed('k8s/deployment.yaml', '9090', '9191')), /has no targetPort, so it is the target too: write targetPort: 9090 first/);
    const { engine, abs, at } = setup(files);
    for (const [f, needle] of [
      ['k8s/service.yaml', '30080'],
      ['k8s/service.yaml', '80'],
      ['k8s/deployment.yaml', '19090'],
      ['k8s/ingress.yaml', '80'],
      ['k8s/service.yaml', 'http'],
    ]) {
      const check = providePrepareRename(engine, abs(f), at(f, needle));
      assert.ok('error' in check, `${f} ${needle} refuses`);
    }
    assert.ok(!('error' in providePrepareRename(engine, abs('k8s/deployment.yaml'), at('k8s/deployment.yaml', '8080'))));
  });
});
