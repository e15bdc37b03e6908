/** A container's files are not the host's: compose bind mounts and rootfs/ trees are hosts of their own. */
import * as assert from 'assert';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { hoverAt } from '../../server/src/features/hoverText';
import { engineWith, offsetOf } from '../helpers/engine';

const NGINX_80 = 'server {\n  listen 80;\n  listen [::]:80;\n}\n';
const conflicts = (engine: ReturnType<typeof engineWith>) =>
  [...engine.analyze().findingsByFile.entries()].flatMap(([file, list]) =>
    list.filter((f) => f.code === 'port-conflict').map((f) => `${file.replace('/ws/', '')}:${f.severity}`),
  );

describe('container hosts', () => {
  const MAIN = 'events {}\nhttp {\n  include conf.d/*.conf;\n}\n';
  const nginxFiles = (dir: string) => ({ [`${dir}/nginx.conf`]: MAIN, [`${dir}/conf.d/default.conf`]: NGINX_80 });
  const ports = '    ports:\n      - "80:80"\n';
  const short = `services:\n  web:\n    image: nginx\n${ports}    volumes:\n      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro\n      - ./nginx/conf.d:/etc/nginx/conf.d\n`;
  const long = `services:\n  web:\n    image: nginx\n${ports}    volumes:\n      - type: bind\n        source: ./nginx\n        target: /etc/nginx\n`;
  const unmounted = `services:\n  web:\n    image: nginx\n${ports}`;

  it('the same nginx not mounted stays on the host and collides with the publish (the case below is not vacuous)', () => {
    const engine = engineWith({ 'app/compose.yaml': unmounted, ...nginxFiles('app/nginx') });
    // Two programs of the folder with no evidence they share a machine: Information on each side (core/sharedHost.ts).
    assert.deepStrictEqual([...new Set(conflicts(engine))].sort(), ['app/compose.yaml:information', 'app/nginx/conf.d/default.conf:information']);
  });

  it('a mounted nginx config listens in the container: the publish 80:80 and its listen 80 do not collide (short syntax)', () => {
    const engine = engineWith({ 'app/compose.yaml': short, ...nginxFiles('app/nginx') });
    assert.deepStrictEqual(conflicts(engine), []);
    assert.notStrictEqual(engine.hosts.hostOf('/ws/app/nginx/conf.d/default.conf'), engine.hosts.hostOf('/ws/app/compose.yaml'));
    assert.strictEqual(engine.hosts.hostOf('/ws/app/nginx/nginx.conf'), engine.hosts.hostOf('/ws/app/nginx/conf.d/default.conf'));
  });

  it('a directory mount (long syntax) holds the container config too', () => {
    const engine = engineWith({ 'app/compose.yaml': long, ...nginxFiles('app/nginx') });
    assert.deepStrictEqual(conflicts(engine), []);
  });

  it('under network_mode: host the mounted config runs on the host and collides', () => {
    const hostMode =
      'services:\n  web:\n    image: nginx\n    network_mode: host\n    volumes:\n      - ./nginx:/etc/nginx\n  proxy:\n    image: x\n    ports: ["80:80"]\n';
    const engine = engineWith({ 'app/compose.yaml': hostMode, ...nginxFiles('app/nginx') });
    assert.strictEqual(engine.hosts.hostOf('/ws/app/nginx/nginx.conf'), engine.hosts.hostOf('/ws/app/compose.yaml'));
    assert.ok(conflicts(engine).length > 0);
  });

  it('a mount of the project directory itself keeps the compose file on the host', () => {
    const selfMount =
      'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n    volumes:\n      - .:/app\n  other:\n    image: y\n    ports: ["80:8080"]\n';
    const engine = engineWith({ 'app/compose.yaml': selfMount });
    assert.strictEqual(engine.hosts.hostOf('/ws/app/compose.yaml'), '/ws');
    assert.ok(conflicts(engine).length > 0);
  });

  it("two services' mounted nginx both listening 80 are two containers, and neither is the host nginx", () => {
    const two =
      'services:\n  a:\n    image: nginx\n    ports: ["8081:80"]\n    volumes: ["./a:/etc/nginx"]\n  b:\n    image: nginx\n    ports: ["8082:80"]\n    volumes: ["./b:/etc/nginx"]\n';
    const host = { 'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server { listen 80; }\n}\n' };
    const engine = engineWith({ 'app/compose.yaml': two, ...nginxFiles('app/a'), ...nginxFiles('app/b'), ...host });
    assert.deepStrictEqual(conflicts(engine), []);
    const unmountedTwo = two.replace(/ {4}volumes: .*\n/g, '');
    assert.ok(conflicts(engineWith({ 'app/compose.yaml': unmountedTwo, ...nginxFiles('app/a'), ...nginxFiles('app/b'), ...host })).length > 0);
  });

  it('the hover on the published port names what listens behind it in the container', () => {
    const engine = engineWith({ 'app/compose.yaml': short, ...nginxFiles('app/nginx') });
    const h = hoverAt(engine, '/ws/app/compose.yaml', offsetOf(short, '80:80'), parseEphemeralRanges(undefined), (f) => f.replace('/ws/', ''))!;
    assert.match(
      h.markdown,
      /Behind it in the container:\n- nginx listens on .*80.* — \[app\/nginx\/conf\.d\/default\.conf:2\]\(file:\/\/\/ws\/app\/nginx\/conf\.d\/default\.conf#L2\)/,
    );
    assert.doesNotMatch(h.markdown, /Also on this host/);
    const plain = engineWith({ 'app/compose.yaml': unmounted, ...nginxFiles('app/nginx') });
    const h2 = hoverAt(plain, '/ws/app/compose.yaml', offsetOf(unmounted, '80:80'), parseEphemeralRanges(undefined))!;
    assert.doesNotMatch(h2.markdown, /Behind it/);
  });

  it("a rootfs/ tree is a container image's root filesystem: a host of its own", () => {
    const conf = 'events {}\nhttp {\n  server { listen 8099; }\n}\n';
    const engine = engineWith({ 'a/rootfs/etc/nginx/nginx.conf': conf, 'b/docker/rootfs/etc/nginx/nginx.conf': conf, 'etc/nginx/nginx.conf': conf });
    assert.deepStrictEqual(conflicts(engine), []);
    assert.strictEqual(engine.hosts.hostOf('/ws/a/rootfs/etc/nginx/nginx.conf'), '/ws#a/rootfs');
    assert.strictEqual(engine.hosts.hostOf('/ws/b/docker/rootfs/etc/nginx/nginx.conf'), '/ws#b/docker/rootfs');
    // Not a rootfs tree: a file named rootfs, or user hosts that say otherwise.
    assert.strictEqual(engine.hosts.hostOf('/ws/etc/nginx/nginx.conf'), '/ws');
    engine.hosts.setFolders([{ folder: '/ws', hosts: { one: ['**'] } }]);
    assert.ok(conflicts(engine).length > 0);
  });
});
