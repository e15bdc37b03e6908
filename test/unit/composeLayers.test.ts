/**
 * Compose files beyond the default names (issue 9, mechanism 6): names that say compose, YAML beside a
 * compose file whose top level is a compose document, and how such a file joins the directory's project
 * (a layer merged as `docker compose -f base -f layer` does, an alternative read alone, a project of its own).
 */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';
import { composeDocument } from '../../server/src/formats/compose';
import { hoverAt } from '../../server/src/features/hoverText';
import type { Engine } from '../../server/src/core/engine';

const web = (ports: string[], extra = '    image: nginx\n') => `services:\n  web:\n${extra}    ports:\n${ports.map((p) => `      - "${p}"\n`).join('')}`;
const K8S = 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - ports:\n            - containerPort: 80\n';
const WORKFLOW = 'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    services:\n      db:\n        image: postgres\n        ports: ["5432:5432"]\n';
const ANSIBLE = '- hosts: all\n  tasks:\n    - name: x\n      ports: "80:80"\n';
const GITLAB = 'services:\n  - docker:dind\nbuild:\n  script: make\n';

/** "file:port" of every publish fact, sorted (one per address family collapsed). */
function published(engine: Engine): string[] {
  const out = new Set<string>();
  for (const { fact } of engine.analyze().facts) if (fact.role === 'publish') out.add(`${fact.file.replace('/ws/', '')}:${fact.port}`);
  return [...out].sort();
}

function loud(engine: Engine): string[] {
  return shownFindings(engine)
    .filter((f) => f.severity === 'error' || f.severity === 'warning')
    .map((f) => `${f.file.replace('/ws/', '')}:${f.line} ${f.severity} ${f.code}`)
    .sort();
}

function infos(engine: Engine): string[] {
  return shownFindings(engine)
    .filter((f) => f.severity === 'information')
    .map((f) => `${f.file.replace('/ws/', '')}:${f.line} ${f.messageId ?? f.code}`)
    .sort();
}

describe('compose files beyond the default names', () => {
  describe('composeDocument', () => {
    it('says yes for a services mapping of mappings, an include, x- keys and several documents', () => {
      for (const text of [
        web(['80:80']),
        'services:\n  web:\n    ports: ["80:80"]\n',
        'include:\n  - other.yml\n',
        'x-common: &c\n  image: x\nversion: "3"\nservices:\n  a:\n    <<: *c\n  b: null\nnetworks:\n  n: {}\n',
        'services:\n  a:\n    image: x\n---\nservices:\n  b:\n    image: y\n',
      ])
        assert.deepStrictEqual(composeDocument(text), { compose: true }, text);
    });

    it('says no, with the reason, for k8s, workflows, ansible, GitLab CI and other YAML', () => {
      const why = (text: string) => {
        const v = composeDocument(text);
        return v && !v.compose ? v.why : String(v?.compose);
      };
      assert.strictEqual(why(K8S), 'top-level key "apiVersion" is not one of compose\'s');
      assert.strictEqual(why(WORKFLOW), 'top-level key "on" is not one of compose\'s');
      assert.strictEqual(why(ANSIBLE), 'its top level is a list');
      assert.strictEqual(why(GITLAB), '`services` is not a mapping of services');
      assert.strictEqual(why('services:\n  web: nginx\n'), 'service "web" is not a mapping');
      assert.strictEqual(why('networks:\n  n: {}\n'), 'it has neither `services:` nor `include:`');
      assert.strictEqual(why('services:\n  a:\n    image: x\n---\nkind: Service\n'), 'top-level key "kind" is not one of compose\'s');
    });

    it('cannot tell for broken or empty YAML', () => {
      assert.strictEqual(composeDocument('services:\n  web:\n    ports: [\n'), undefined);
      assert.strictEqual(composeDocument(''), undefined);
    });
  });

  describe('names that say compose are read by content', () => {
    const names = [
      'traefik-compose.yml',
      'docker-compose-prod.yml',
      'compose.base.override.yml',
      'docker-compose.a.b.yml',
      'stack.compose.yaml',
      'compose-dev.yaml',
    ];
    for (const name of names) {
      it(`${name}: a compose document is read, its ports published`, () => {
        const engine = engineWith({ [`app/${name}`]: web(['8080:80']) });
        assert.deepStrictEqual(published(engine), [`app/${name}:8080`]);
        assert.strictEqual(engine.analyze().formatOf.get(`/ws/app/${name}`), 'compose');
        assert.deepStrictEqual(engine.instanceNotes(`/ws/app/${name}`), ['read as compose: named like a compose file']);
      });
      it(`${name}: k8s, a workflow, an ansible playbook are not read as compose`, () => {
        for (const text of [K8S, WORKFLOW, ANSIBLE, GITLAB]) {
          const engine = engineWith({ [`app/${name}`]: text });
          assert.deepStrictEqual(published(engine), [], text);
          assert.deepStrictEqual(loud(engine), [], text);
          const format = engine.analyze().formatOf.get(`/ws/app/${name}`);
          assert.notStrictEqual(format, 'compose', text);
          // A manifest is the kubernetes format's (formats/kubernetes/); the rest are read by no format, and say why.
          if (format === undefined) assert.match(engine.instanceNotes(`/ws/app/${name}`)[0], /^not read as compose: not a compose document \(/, text);
          else assert.strictEqual(format, 'kubernetes', text);
        }
      });
    }

    it('a compose-named file whose YAML is broken is still read as compose, and its YAML error reported', () => {
      const engine = engineWith({ 'app/traefik-compose.yml': 'services:\n  web:\n    ports: [\n' });
      assert.strictEqual(engine.analyze().formatOf.get('/ws/app/traefik-compose.yml'), 'compose');
      assert.ok(loud(engine).some((l) => l.startsWith('app/traefik-compose.yml:') && l.endsWith('error syntax')));
    });

    it('a YAML named like nothing of compose, with no compose file beside it, is not read', () => {
      const engine = engineWith({ 'app/stack.yml': web(['8080:80']), 'other/compose.yaml': web(['9090:90']) });
      assert.deepStrictEqual(published(engine), ['other/compose.yaml:9090']);
      assert.deepStrictEqual(engine.instanceNotes('/ws/app/stack.yml'), []);
    });
  });

  describe('YAML beside a compose file', () => {
    it('is read as compose when its top level is a compose document, and not otherwise', () => {
      const engine = engineWith({
        'app/compose.yaml': web(['80:80']),
        'app/prod.yml': 'services:\n  web:\n    ports:\n      - "443:443"\n',
        'app/k8s.yaml': K8S,
        'app/vars.yml': 'hosts: all\nhttp_port: 80\n',
        'app/.github/workflows/ci.yml': WORKFLOW,
      });
      const formats = engine.analyze().formatOf;
      assert.strictEqual(formats.get('/ws/app/prod.yml'), 'compose');
      assert.strictEqual(formats.get('/ws/app/k8s.yaml'), 'kubernetes');
      assert.strictEqual(formats.get('/ws/app/vars.yml'), undefined);
      assert.strictEqual(formats.get('/ws/app/.github/workflows/ci.yml'), undefined);
      assert.deepStrictEqual(engine.instanceNotes('/ws/app/vars.yml'), [
        'not read as compose: not a compose document (top-level key "hosts" is not one of compose\'s)',
      ]);
      assert.deepStrictEqual(engine.instanceNotes('/ws/app/prod.yml'), [
        'read as compose: a compose document beside compose.yaml',
        'compose layer of compose.yaml (services web): merged into it as `docker compose -f compose.yaml -f prod.yml` does',
      ]);
      assert.deepStrictEqual(published(engine), ['app/compose.yaml:80', 'app/prod.yml:443']);
    });

    it('follows the compose file: added later it claims the YAML, deleted it lets it go, as a fresh analysis does', () => {
      const layer = 'services:\n  web:\n    ports:\n      - "443:443"\n';
      const engine = engineWith({ 'app/prod.yml': layer });
      assert.strictEqual(engine.analyze().formatOf.get('/ws/app/prod.yml'), undefined);
      engine.setFile('/ws/app/compose.yaml', web(['80:80']));
      assert.strictEqual(engine.analyze().formatOf.get('/ws/app/prod.yml'), 'compose');
      assert.deepStrictEqual(published(engine), published(engineWith({ 'app/prod.yml': layer, 'app/compose.yaml': web(['80:80']) })));
      engine.deleteFile('/ws/app/compose.yaml');
      assert.strictEqual(engine.analyze().formatOf.get('/ws/app/prod.yml'), undefined);
      assert.deepStrictEqual(published(engine), []);
    });
  });

  describe('layers of one project', () => {
    it('a layer whose shared service names nothing to run is merged into its base: one service, its conflicts certain', () => {
      const engine = engineWith({
        'app/docker-compose.yml': web(['80:80']),
        // -f docker-compose.yml -f docker-compose.prod.yml: web publishes 80 and 443, admin 443 too.
        'app/docker-compose.prod.yml':
          'services:\n  web:\n    ports:\n      - "443:443"\n      - "80:80"\n  admin:\n    image: adminer\n    ports:\n      - "443:8080"\n',
      });
      assert.deepStrictEqual(loud(engine), ['app/docker-compose.prod.yml:4 error port-conflict', 'app/docker-compose.prod.yml:9 error port-conflict']);
      // The base's web:80 and the layer's web:80 are one service of one project: no conflict, none with the base alone.
      assert.deepStrictEqual(infos(engine), []);
      assert.deepStrictEqual(engine.instancesOf('/ws/app/docker-compose.yml'), ['/ws/app/docker-compose.prod.yml', '/ws/app/docker-compose.yml']);
      const messages = shownFindings(engine).map((f) => f.message);
      assert.ok(
        messages.every((m) => !m.includes('docker-compose.yml')),
        messages.join('\n'),
      );
    });

    it('a layer that can run alone is read alone: never beside its base, so no conflict with it', () => {
      const engine = engineWith({
        'app/docker-compose.yml': web(['80:80']),
        'app/docker-compose.dev.yml': web(['80:80', '8080:80']),
      });
      assert.deepStrictEqual(loud(engine), []);
      assert.deepStrictEqual(infos(engine), []);
      assert.deepStrictEqual(published(engine), ['app/docker-compose.dev.yml:80', 'app/docker-compose.dev.yml:8080', 'app/docker-compose.yml:80']);
      // The base was only consulted: it is not a file of the alternative's instance.
      assert.deepStrictEqual(engine.instancesOf('/ws/app/docker-compose.yml'), ['/ws/app/docker-compose.yml']);
      assert.deepStrictEqual(engine.instanceNotes('/ws/app/docker-compose.dev.yml'), [
        'alternative to docker-compose.yml (services web): read alone, never running beside it as another project',
      ]);
    });

    it('two layers of one base never conflict with each other', () => {
      const engine = engineWith({
        'app/compose.yaml': web(['80:80']),
        'app/compose.dev.yaml': 'services:\n  web:\n    ports:\n      - "8080:80"\n  db:\n    image: x\n    ports: ["5432:5432"]\n',
        'app/compose.test.yaml': 'services:\n  web:\n    ports:\n      - "8080:80"\n  pg:\n    image: x\n    ports: ["5432:5432"]\n',
      });
      assert.deepStrictEqual(loud(engine), []);
      assert.deepStrictEqual(infos(engine), []);
    });

    it('a compose file that shares no service with the base is a project of its own: a collision is if-one-host', () => {
      const engine = engineWith({
        'app/compose.yaml': web(['80:80']),
        'app/traefik-compose.yml': 'services:\n  traefik:\n    image: traefik\n    ports: ["80:80"]\n',
      });
      assert.deepStrictEqual(loud(engine), []);
      assert.deepStrictEqual(infos(engine), ['app/compose.yaml:5 if-one-host', 'app/traefik-compose.yml:4 if-one-host']);
      assert.deepStrictEqual(engine.instanceNotes('/ws/app/traefik-compose.yml'), ['read as compose: named like a compose file']);
      assert.deepStrictEqual(engine.instancesOf('/ws/app/compose.yaml'), ['/ws/app/compose.yaml']);
    });

    it('a conflict inside the base stays one error per side, although a layer reads the base too', () => {
      const base = 'services:\n  a:\n    image: x\n    ports: ["80:80"]\n  b:\n    image: y\n    ports: ["80:81"]\n';
      const engine = engineWith({ 'app/compose.yaml': base, 'app/compose.prod.yaml': 'services:\n  a:\n    environment: [X=1]\n' });
      assert.deepStrictEqual(loud(engine), ['app/compose.yaml:4 error port-conflict', 'app/compose.yaml:7 error port-conflict']);
    });

    it('the override merges into its base: a service in both is one service, a repeated port no conflict', () => {
      const engine = engineWith({
        'app/compose.yaml': web(['80:80']),
        'app/compose.override.yaml': 'services:\n  web:\n    ports:\n      - "80:80"\n      - "8080:80"\n',
      });
      assert.deepStrictEqual(loud(engine), []);
      assert.deepStrictEqual(infos(engine), []);
      assert.deepStrictEqual(published(engine), ['app/compose.override.yaml:8080', 'app/compose.yaml:80']);
    });

    it('a compose file at the top of a folder beside etc/ has no shared-host evidence with it: Information; under srv/ it has: Errors', () => {
      const nginx = 'events {}\nhttp {\n  server {\n    listen 8080;\n  }\n}\n';
      // The repository may be an image's source (etc/ copied into it, compose.yaml running it): not certainly one machine.
      const top = engineWith({ 'etc/nginx/nginx.conf': nginx, 'compose.yaml': web(['8080:80']), 'compose.prod.yaml': web(['9090:90'], '') });
      assert.deepStrictEqual(loud(top), []);
      assert.deepStrictEqual(infos(top), ['compose.yaml:5 if-one-host', 'etc/nginx/nginx.conf:4 if-one-host']);
      const srv = engineWith({ 'etc/nginx/nginx.conf': nginx, 'srv/app/compose.yaml': web(['8080:80']), 'srv/app/compose.prod.yaml': web(['9090:90'], '') });
      assert.deepStrictEqual(loud(srv), ['etc/nginx/nginx.conf:4 error port-conflict', 'srv/app/compose.yaml:5 error port-conflict']);
      // The base's bind, read by the base alone and by the layer, is one side, named once.
      for (const f of [...shownFindings(top), ...shownFindings(srv)]) assert.doesNotMatch(f.message, /and 1 (more|other)/, f.message);
    });

    it("the hover names a base's publish once, although the base alone and its layer both read it", () => {
      const base = web(['8080:80']);
      const engine = engineWith({ 'app/compose.yaml': base, 'app/compose.prod.yaml': web(['443:443'], '') });
      const hover = hoverAt(engine, '/ws/app/compose.yaml', base.indexOf('8080') + 1, []);
      assert.match(hover?.markdown ?? '', /docker publishes 0\.0\.0\.0:8080 → web:80\/tcp \(and the same on \[::\]:8080\)$/m);
    });

    it('!reset drops the base ports, !override replaces them', () => {
      const reset = engineWith({ 'app/compose.yaml': web(['80:80']), 'app/compose.override.yaml': 'services:\n  web:\n    ports: !reset []\n' });
      assert.deepStrictEqual(published(reset), []);
      const override = engineWith({
        'app/compose.yaml': web(['80:80', '443:443']),
        'app/compose.override.yaml': 'services:\n  web:\n    ports: !override\n      - "8080:80"\n',
      });
      assert.deepStrictEqual(published(override), ['app/compose.override.yaml:8080']);
      // Without the tag the lists are merged.
      const merged = engineWith({ 'app/compose.yaml': web(['80:80']), 'app/compose.override.yaml': 'services:\n  web:\n    ports:\n      - "8080:80"\n' });
      assert.deepStrictEqual(published(merged), ['app/compose.override.yaml:8080', 'app/compose.yaml:80']);
    });

    it('a layer replacing a port with !override does not collide with the base port it dropped', () => {
      const engine = engineWith({
        'app/compose.yaml': 'services:\n  web:\n    image: x\n    ports: ["80:80"]\n  api:\n    image: y\n',
        'app/compose.prod.yaml': 'services:\n  web:\n    ports: !override ["8080:80"]\n  api:\n    ports: ["80:3000"]\n',
      });
      assert.deepStrictEqual(loud(engine), []);
    });
  });
});
