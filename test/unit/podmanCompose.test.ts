/** podman-compose's file names (podman_compose.py COMPOSE_DEFAULT_LS) are compose files too. */
import * as assert from 'assert';
import { engineWith } from '../helpers/engine';

const publishes = (files: Record<string, string>) => {
  const e = engineWith(files);
  e.analyze();
  // One line per mapping (Docker binds IPv4 and IPv6).
  return [
    ...new Set([...e.hostModels().values()].flatMap((h) => h.binds).map((f) => `${f.port}/${f.protocol} ${f.program} ${f.file.replace('/ws/', '')}`)),
  ].sort();
};

const stack = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n';

describe('podman-compose file names', () => {
  for (const name of ['podman-compose.yaml', 'podman-compose.yml', 'container-compose.yml', 'container-compose.yaml']) {
    it(`${name} is read as a compose file`, () => {
      assert.deepStrictEqual(publishes({ [`app/${name}`]: stack }), [`8080/tcp docker app/${name}`]);
    });
  }

  it('container-compose.override.yml is merged into container-compose.yml', () => {
    const got = publishes({
      'app/container-compose.yml': stack,
      'app/container-compose.override.yml': 'services:\n  web:\n    ports: ["9090:90"]\n',
    });
    assert.deepStrictEqual(got, ['8080/tcp docker app/container-compose.yml', '9090/tcp docker app/container-compose.override.yml']);
  });

  it('other names stay unread as compose (podman-compose does not read them by default)', () => {
    // (`my-compose.yaml` and other names that say compose are read by content: composeLayers.test.ts.)
    assert.deepStrictEqual(publishes({ 'app/podman.yml': stack, 'app/stack.yaml': stack }), []);
  });
});
