/** A workspace folder is not always one host: certain shared-host evidence keeps conflicts Errors, the rest is Information per side. */
import * as assert from 'assert';
import type { FolderHosts } from '../../server/src/core/hosts';
import { IF_ONE_HOST } from '../../server/src/core/sharedHost';
import type { Finding } from '../../server/src/core/types';
import { engineWith } from '../helpers/engine';

const publish = (service: string, port: string) => `services:\n  ${service}:\n    image: x\n    ports:\n      - "${port}"\n`;
const nginx = (port: number) => `events {}\nhttp {\n  server {\n    listen ${port};\n  }\n}\n`;

function conflicts(files: Record<string, string>, config?: Omit<FolderHosts, 'folder'>): Finding[] {
  const engine = engineWith(files);
  if (config) engine.hosts.setFolders([{ folder: '/ws', ...config }]);
  return [...engine.analyze().findingsByFile.values()].flat().filter((f) => f.code === 'port-conflict');
}
const brief = (list: Finding[]) => list.map((f) => `${f.file.replace('/ws/', '')} ${f.severity}`).sort();

describe('shared-host evidence (issue 9, mechanism 4)', () => {
  const siblings = { 'pihole/docker-compose.yml': publish('pihole', '53:53/udp'), 'adguard/docker-compose.yml': publish('adguard', '53:53/udp') };

  it('two services of one compose project certainly share a host: Errors', () => {
    const one = 'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n  b:\n    image: y\n    ports: ["8080:81"]\n';
    assert.deepStrictEqual(brief(conflicts({ 'stack/compose.yaml': one })), ['stack/compose.yaml error', 'stack/compose.yaml error']);
  });

  it('sibling compose projects with no evidence: one Information per side, naming the other, without "Use port N"', () => {
    const got = conflicts(siblings);
    assert.deepStrictEqual(brief(got), ['adguard/docker-compose.yml information', 'pihole/docker-compose.yml information']);
    const pihole = got.find((f) => f.file.endsWith('pihole/docker-compose.yml'))!;
    assert.strictEqual(pihole.messageId, IF_ONE_HOST);
    assert.strictEqual(pihole.message, 'If one host runs both, docker at adguard/docker-compose.yml:5 also binds 53/udp (say so in .portolan.json)');
    assert.ok(pihole.message.length < 110, pihole.message);
    assert.deepStrictEqual(pihole.data?.units, ['pihole/**', 'adguard/**']);
    assert.deepStrictEqual(
      pihole.data?.other?.map((o) => o.file),
      ['/ws/adguard/docker-compose.yml'],
    );
    assert.deepStrictEqual(
      pihole.related?.map((r) => r.file),
      ['/ws/adguard/docker-compose.yml'],
    );
    assert.strictEqual(pihole.data?.port, 53);
    assert.strictEqual(pihole.data?.protocol, 'udp');
    assert.deepStrictEqual(pihole.fixes ?? [], []);
  });

  it('.portolan.json oneHost groups make them certain again (Errors); oneHost: true makes the whole folder one host', () => {
    assert.deepStrictEqual(brief(conflicts(siblings, { hosts: {}, oneHost: [['pihole/**', 'adguard/**']] })), [
      'adguard/docker-compose.yml error',
      'pihole/docker-compose.yml error',
    ]);
    assert.deepStrictEqual(brief(conflicts(siblings, { hosts: {}, oneHost: true })), ['adguard/docker-compose.yml error', 'pihole/docker-compose.yml error']);
    // A group that holds only one side says nothing about the other.
    assert.deepStrictEqual(
      conflicts(siblings, { hosts: {}, oneHost: [['pihole/**', 'unbound/**']] }).map((f) => f.severity),
      ['information', 'information'],
    );
  });

  it('hostPerProject silences conflicts without evidence, and only those', () => {
    assert.deepStrictEqual(conflicts(siblings, { hosts: {}, hostPerProject: true }), []);
    const inOne = { ...siblings, 'web/compose.yaml': 'services:\n  a:\n    image: x\n    ports: ["80:80"]\n  b:\n    image: y\n    ports: ["80:81"]\n' };
    assert.deepStrictEqual(brief(conflicts(inOne, { hosts: {}, hostPerProject: true })), ['web/compose.yaml error', 'web/compose.yaml error']);
  });

  it('a mirrored root filesystem (etc/ beside srv/, opt/, home/) is one host: Errors', () => {
    const files = {
      'etc/nginx/nginx.conf': nginx(8080),
      'srv/shop/compose.yaml': publish('shop', '8080:80'),
      'home/me/app/compose.yaml': publish('app', '8080:80'),
    };
    assert.deepStrictEqual(brief(conflicts(files)), ['etc/nginx/nginx.conf error', 'home/me/app/compose.yaml error', 'srv/shop/compose.yaml error']);
    // The same under a machine's directory of the repository.
    const nested = { 'hosts/web1/etc/nginx/nginx.conf': nginx(8080), 'hosts/web1/opt/shop/compose.yaml': publish('shop', '8080:80') };
    assert.deepStrictEqual(brief(conflicts(nested)), ['hosts/web1/etc/nginx/nginx.conf error', 'hosts/web1/opt/shop/compose.yaml error']);
  });

  it('outside the mirrored root (or under another one) there is no evidence: Information', () => {
    const besides = { 'etc/nginx/nginx.conf': nginx(8080), 'examples/shop/compose.yaml': publish('shop', '8080:80') };
    assert.deepStrictEqual(brief(conflicts(besides)), ['etc/nginx/nginx.conf information', 'examples/shop/compose.yaml information']);
    const two = { 'web1/etc/nginx/nginx.conf': nginx(8080), 'web2/srv/shop/compose.yaml': publish('shop', '8080:80'), 'web2/etc/hostname.conf': '' };
    assert.deepStrictEqual(
      conflicts(two).map((f) => f.severity),
      ['information', 'information'],
    );
  });

  it('a host named in portolan.hosts is one machine: Errors', () => {
    assert.deepStrictEqual(brief(conflicts(siblings, { hosts: { dns: ['pihole/**', 'adguard/**'] } })), [
      'adguard/docker-compose.yml error',
      'pihole/docker-compose.yml error',
    ]);
  });

  it('against a certain side and an uncertain one: the Error names only the certain side', () => {
    const files = {
      'etc/nginx/nginx.conf': nginx(8080),
      'srv/shop/compose.yaml': publish('shop', '8080:80'),
      'examples/demo/compose.yaml': publish('demo', '8080:80'),
    };
    const got = conflicts(files);
    const onNginx = got.filter((f) => f.file === '/ws/etc/nginx/nginx.conf');
    assert.deepStrictEqual(
      onNginx.map((f) => f.severity),
      ['error'],
    );
    assert.deepStrictEqual(
      onNginx[0].data?.other?.map((o) => o.file),
      ['/ws/srv/shop/compose.yaml'],
    );
    assert.doesNotMatch(onNginx[0].message, /examples/);
    // The demo collides with both, neither certain: one Information, naming both.
    const demo = got.filter((f) => f.file === '/ws/examples/demo/compose.yaml');
    assert.deepStrictEqual(
      demo.map((f) => f.severity),
      ['information'],
    );
    assert.deepStrictEqual(demo[0].data?.units, ['examples/demo/**', 'etc/nginx/**', 'srv/shop/**']);
    assert.match(demo[0].message, /and 1 more/);
  });

  it('a project at the top of the folder is named by its file', () => {
    const got = conflicts({ 'docker-compose.yml': publish('a', '8080:80'), 'demo/compose.yaml': publish('b', '8080:80') });
    assert.deepStrictEqual(got.find((f) => f.file === '/ws/docker-compose.yml')?.data?.units, ['docker-compose.yml', 'demo/**']);
  });
});
