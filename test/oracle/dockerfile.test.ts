/**
 * Oracle (partial): no Docker daemon or BuildKit runs offline here, so `docker build` itself cannot
 * judge an EXPOSE line. The docker CLI's `--expose` reads a port or range with the same go-connections
 * port-range grammar older BuildKit used for EXPOSE (decimal 0-65535, `a-b` with a <= b), and it
 * refuses a bad one before it looks for a daemon (pointed at a socket that does not exist). Each word
 * here (no protocol: --expose does not check it) is judged by both: the CLI refuses it exactly when we
 * report invalid-port on it. Protocols and `host:container` forms were checked by hand against
 * BuildKit's dockerfile2llb source (test/unit/dockerfile.test.ts).
 */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { requireProgram } from '../helpers/programs';

const WORDS = ['80', '0', '1', '65535', '65536', '70000', '8000-8010', '8010-8000', '80-80', '8000-', '-80', 'http', '1-65535', '1-65536', '08080', '1.5'];

describe('oracle: Dockerfile EXPOSE port words against the docker CLI', function () {
  this.timeout(120000);
  let docker = '';
  before(function () {
    docker = requireProgram(this, ['docker'], 'docker.io');
  });

  for (const word of WORDS) {
    it(`EXPOSE ${word}`, () => {
      const nowhere = `unix://${path.join(os.tmpdir(), `portolan-no-docker-${process.pid}.sock`)}`;
      const r = spawnSync(docker, ['create', '--expose', word, 'alpine'], {
        encoding: 'utf8',
        timeout: 20000,
        env: { ...process.env, DOCKER_HOST: nowhere, DOCKER_CONFIG: os.tmpdir() },
      });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      const refused = /invalid range format for --expose/.test(out);
      assert.ok(refused || /Cannot connect to the Docker daemon|daemon/i.test(out), `unexpected docker output: ${out}`);
      const ours = shownFindings(engineWith({ 'app/Dockerfile': `FROM alpine\nEXPOSE ${word}\n` })).filter((f) => f.code === 'invalid-port');
      assert.strictEqual(
        ours.length > 0,
        refused,
        `docker ${refused ? 'refuses' : 'accepts'} ${word}; we report ${JSON.stringify(ours.map((f) => f.message))}`,
      );
    });
  }
});
