/** Formats are recognised from the path inside the workspace folder, and by content where that path is not conclusive. */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';

const formatsOf = (e: ReturnType<typeof engineWith>) =>
  Object.fromEntries([...e.analyze().formatOf].map(([f, id]) => [f.replace(/^.*?-nginx-[^/]*\//, ''), id]));

describe('format detection inside the workspace folder', () => {
  const folder = '/home/me/src/acme-nginx-tools';
  const squid = 'http_port 3128\nacl localnet src 10.0.0.0/8\nhttp_access allow localnet\n';
  const unbound = 'server:\n  interface: 0.0.0.0\n  port: 53\n';

  it('a folder named like nginx above the workspace does not make its *.conf nginx (squid.conf, unbound.conf stay silent)', () => {
    const e = engineWith({ 'squid/squid.conf': squid, 'unbound/unbound.conf': unbound }, folder);
    assert.deepStrictEqual(shownFindings(e), []);
    assert.deepStrictEqual(formatsOf(e), {});
  });

  it('inside the folder, an nginx directory still claims its *.conf; a *.conf elsewhere is nginx when its text is', () => {
    const e = engineWith(
      { 'deploy/nginx/site.conf': 'server {\n  listen 8080;\n}\n', 'examples/vhost.conf': 'server {\n  listen 8081;\n}\n', 'squid/squid.conf': squid },
      folder,
    );
    assert.deepStrictEqual(formatsOf(e), { 'deploy/nginx/site.conf': 'nginx', 'examples/vhost.conf': 'nginx' });
  });

  it('the same file under a workspace folder that is itself an nginx directory is nginx by path', () => {
    const e = engineWith({ 'conf.d/squid.conf': squid }, '/srv/nginx');
    assert.deepStrictEqual(formatsOf(e), {});
    const e2 = engineWith({ 'nginx/conf.d/a.conf': 'location / { return 200; }\n' }, '/srv/x');
    assert.deepStrictEqual(formatsOf(e2), { '/srv/x/nginx/conf.d/a.conf': 'nginx' });
  });
});
