/** not-exposed (issue 15): a compose publish to a container port the service's own Dockerfile does not EXPOSE. */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';

const hints = (files: Record<string, string>) =>
  shownFindings(engineWith(files))
    .filter((f) => f.code === 'not-exposed')
    .map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, f.text, f.message]);

const compose = (ports: string, build = 'build: .') => `services:\n  web:\n    ${build}\n    ports: [${ports}]\n`;
const DOCKERFILE = 'FROM node:22\nEXPOSE 3000 53/udp\nCMD ["node", "server.js"]\n';

describe('not-exposed: compose publishes against the Dockerfile the image is built from', () => {
  it('fires on the mapping whose container port the Dockerfile does not expose, once per mapping, naming what it exposes', () => {
    assert.deepStrictEqual(hints({ 'app/compose.yaml': compose('"8080:80", "3000:3000", "5353:53/udp"'), 'app/Dockerfile': DOCKERFILE }), [
      ['app/compose.yaml', 4, 'hint', '8080', 'app/Dockerfile does not EXPOSE 80/tcp (it exposes 3000/tcp 53/udp): is 80 the port web listens on?'],
    ]);
  });

  it('the protocol counts: 53/tcp is not 53/udp; a range must be exposed whole', () => {
    assert.deepStrictEqual(
      hints({ 'app/compose.yaml': compose('"53:53"'), 'app/Dockerfile': DOCKERFILE }).map((h) => h[3]),
      ['53'],
    );
    const ranged = { 'app/compose.yaml': compose('"9000-9002:9000-9002"'), 'app/Dockerfile': 'FROM x\nEXPOSE 9000-9001\n' };
    assert.deepStrictEqual(
      hints(ranged).map((h) => h[3]),
      ['9000-9002'],
    );
    assert.deepStrictEqual(hints({ ...ranged, 'app/Dockerfile': 'FROM x\nEXPOSE 9000-9002\n' }), []);
  });

  it('build with context and dockerfile: the Dockerfile named, relative to the context', () => {
    const files = {
      'app/compose.yaml': compose('"8080:80"', 'build:\n      context: ./svc\n      dockerfile: Dockerfile.prod'),
      'app/svc/Dockerfile.prod': 'FROM x\nEXPOSE 8000\n',
      'app/svc/Dockerfile': 'FROM x\nEXPOSE 80\n',
    };
    assert.deepStrictEqual(
      hints(files).map((h) => h.slice(0, 4)),
      [['app/compose.yaml', 6, 'hint', '8080']],
    );
  });

  it('silent: the Dockerfile exposes it, has no EXPOSE, uses a variable in EXPOSE, is not in the workspace, or the image is not built locally', () => {
    const dockerfile = (text: string) => ({ 'app/compose.yaml': compose('"8080:80"'), 'app/Dockerfile': text });
    assert.deepStrictEqual(hints(dockerfile('FROM x\nEXPOSE 80/tcp 443\n')), []);
    assert.deepStrictEqual(hints(dockerfile('FROM nginx\nCOPY site /usr/share/nginx/html\n')), []);
    assert.deepStrictEqual(hints(dockerfile('FROM x\nARG PORT\nEXPOSE 3000 $PORT\n')), []);
    assert.deepStrictEqual(hints({ 'app/compose.yaml': compose('"8080:80"') }), []);
    assert.deepStrictEqual(hints({ 'app/compose.yaml': compose('"8080:80"', 'image: node:22'), 'app/Dockerfile': DOCKERFILE }), []);
    for (const build of ['build: https://github.com/x/y.git', 'build: ${CTX}', 'build:\n      context: .\n      dockerfile_inline: "FROM x"'])
      assert.deepStrictEqual(hints({ 'app/compose.yaml': compose('"8080:80"', build), 'app/Dockerfile': DOCKERFILE }), [], build);
  });

  it("an override's build replaces the base file's Dockerfile", () => {
    const files = {
      'app/compose.yaml': compose('"8080:80"'),
      'app/compose.override.yaml': 'services:\n  web:\n    build:\n      context: ./other\n',
      'app/Dockerfile': 'FROM x\nEXPOSE 3000\n',
      'app/other/Dockerfile': 'FROM x\nEXPOSE 80\n',
    };
    assert.deepStrictEqual(hints(files), []);
  });
});
