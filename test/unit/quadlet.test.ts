import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const UNIT = 'etc/containers/systemd/web.container';
const unit = (lines: string) => `[Unit]\nDescription=web\n\n[Container]\nImage=docker.io/library/nginx\n${lines}\n[Install]\nWantedBy=default.target\n`;
const facts = (text: string) =>
  engineWith({ [UNIT]: text })
    .analyze()
    .facts.map(
      ({ fact }) =>
        `${fact.role} ${fact.family === 'ipv6' ? `[${fact.address ?? '::'}]` : (fact.address ?? '*')}:${fact.port}-${fact.portEnd}/${fact.protocol}`,
    );

describe('podman quadlet .container', () => {
  it('PublishPort in every form: host port, IP, IPv6, ranges, protocol, random host port', () => {
    const text = unit(
      'PublishPort=8080:80\nPublishPort=127.0.0.1:5353:53/udp\nPublishPort=[::1]:9000-9001:9000-9001\nPublishPort=443\nPublishPort=127.0.0.1::8443',
    );
    assert.deepStrictEqual(facts(text), [
      'publish *:8080-8080/tcp',
      'publish [::]:8080-8080/tcp',
      'container *:80-80/tcp',
      'publish 127.0.0.1:5353-5353/udp',
      'container *:53-53/udp',
      'publish [::1]:9000-9001/tcp',
      'container *:9000-9001/tcp',
      'container *:443-443/tcp',
      'container *:8443-8443/tcp',
    ]);
  });

  it('Network=host publishes nothing', () => {
    assert.deepStrictEqual(facts(unit('Network=host\nPublishPort=8080:80')), ['container *:80-80/tcp']);
  });

  it('a .container file without a [Container] section is not read as a quadlet', () => {
    assert.deepStrictEqual(facts('just some text\nPublishPort=8080:80\n'), []);
  });

  it('collides with nginx on the host port; silent beside a different port', () => {
    const nginx = { 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 8080; } }\n' };
    assert.ok(shownFindings(engineWith({ [UNIT]: unit('PublishPort=8080:80'), ...nginx })).some((f) => f.code === 'port-conflict'));
    assert.deepStrictEqual(shownFindings(engineWith({ [UNIT]: unit('PublishPort=8081:80'), ...nginx })), []);
  });

  it('invalid-port on ports podman refuses', () => {
    for (const bad of ['PublishPort=70000:80', 'PublishPort=8080:0', 'PublishPort=9001-9000:80', 'PublishPort=8080:80/icmp', 'PublishPort=a:b']) {
      const got = shownFindings(engineWith({ [UNIT]: unit(bad) }));
      assert.deepStrictEqual(
        got.map((f) => f.code),
        ['invalid-port'],
        bad,
      );
    }
  });

  it('hovers a published port', () => {
    const text = unit('PublishPort=8080:80');
    const h = hoverAt(engineWith({ [UNIT]: text }), `/ws/${UNIT}`, offsetOf(text, '8080'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /podman publishes 0\.0\.0\.0:8080 → web:80\/tcp/);
  });
});
