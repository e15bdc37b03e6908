import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const facts = (text: string, name = 'app/Dockerfile') =>
  engineWith({ [name]: text })
    .analyze()
    .facts.map(({ fact }) => `${fact.role} ${fact.port}-${fact.portEnd}/${fact.protocol}`);

describe('Dockerfile EXPOSE', () => {
  it('reads ports, ranges, protocols, variables and continuation lines as container ports', () => {
    const text = 'FROM nginx AS web\nARG PORT=8080\nENV ADMIN 9000\nexpose 80 443/tcp 53/udp \\\n  8000-8002 ${PORT} $ADMIN ${MISSING}\n';
    assert.deepStrictEqual(facts(text), [
      'container 80-80/tcp',
      'container 443-443/tcp',
      'container 53-53/udp',
      'container 8000-8002/tcp',
      'container 8080-8080/tcp',
      'container 9000-9000/tcp',
    ]);
  });

  it('binds nothing on the host: no conflict with an nginx on the same port', () => {
    const files = { 'app/Dockerfile': 'FROM nginx\nEXPOSE 80\n', 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 80; } }\n' };
    assert.deepStrictEqual(shownFindings(engineWith(files)), []);
  });

  it('claims Dockerfile, Containerfile, Dockerfile.dev and x.Dockerfile, not Dockerfile.md', () => {
    for (const name of ['Dockerfile', 'Containerfile', 'Dockerfile.dev', 'web.Dockerfile'])
      assert.deepStrictEqual(facts('FROM x\nEXPOSE 81\n', `app/${name}`), ['container 81-81/tcp'], name);
    assert.deepStrictEqual(facts('FROM x\nEXPOSE 81\n', 'docs/Dockerfile.md'), []);
  });

  it('invalid-port on what docker build refuses; silent on valid ones', () => {
    for (const bad of ['70000', '9001-9000', '80/icmp', 'http', '/80', '8000-', '80-70000']) {
      const got = shownFindings(engineWith({ 'app/Dockerfile': `FROM x\nEXPOSE ${bad}\n` }));
      assert.deepStrictEqual(
        got.map((f) => [f.code, f.text]),
        [['invalid-port', bad]],
      );
    }
    assert.deepStrictEqual(shownFindings(engineWith({ 'app/Dockerfile': 'FROM x\n# EXPOSE 99999\nEXPOSE 65535/sctp\n' })), []);
  });

  it('accepts what BuildKit accepts: port 0 (no fact), 80/TCP, 80/, host:container (the container port)', () => {
    const text = 'FROM x\nEXPOSE 0 81/TCP 82/ 8080:83 127.0.0.1:8081:84/udp\n';
    assert.deepStrictEqual(shownFindings(engineWith({ 'app/Dockerfile': text })), []);
    assert.deepStrictEqual(facts(text), ['container 81-81/tcp', 'container 82-82/tcp', 'container 83-83/tcp', 'container 84-84/udp']);
  });

  it('spans: the port (or range) of a plain word, the whole word when a variable was expanded', () => {
    const text = 'FROM x\nARG P=90\nEXPOSE 8000-8002/udp 8080:83 ${P}\n';
    const spans = engineWith({ 'app/Dockerfile': text })
      .analyze()
      .facts.map(({ fact }) => text.slice(fact.span.start, fact.span.end));
    assert.deepStrictEqual(spans, ['8000-8002', '83', '${P}']);
  });

  it('hovers an exposed port', () => {
    const text = 'FROM nginx\nEXPOSE 8443\n';
    const h = hoverAt(engineWith({ 'app/Dockerfile': text }), '/ws/app/Dockerfile', offsetOf(text, '8443'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /exposes container port 8443\/tcp/);
  });
});
