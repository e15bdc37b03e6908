/**
 * The server's parse worker (server/src/offThread.ts over server/out/parseWorker.js, `npx tsc -b` first) and the
 * engine's side of it (parsesWanted / adoptParse): a parse made in the worker is the one the engine would make, the
 * engine uses it without parsing again, and cancel() rejects the parse under way while the next one still works.
 */
import * as assert from 'assert';
import * as path from 'path';
import { fileParse } from '../../server/src/core/engine';
import { Cancelled, OffThreadParser } from '../../server/src/offThread';
import { engineWith } from '../helpers/engine';
import * as g from '../hostile/generators';

const WORKER = path.resolve(__dirname, '..', '..', 'server', 'out', 'parseWorker.js');

describe('big documents parsed off the main thread', function () {
  this.timeout(120_000);
  const parser = new OffThreadParser(WORKER);
  after(() => parser.dispose());

  it('the worker parses as the engine does; the engine takes the parse for that text and does not parse it again', async () => {
    // A format whose reader reports the bad port itself (compose's come from its linker), so the parse's findings show.
    const file = '/ws/etc/iptables/rules.v4';
    const text = '*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n';
    const e = engineWith({ '/ws/etc/ssh/sshd_config': 'Port 22\n' });
    e.analyze();
    const wanted = e.parsesWanted(file, text);
    assert.deepStrictEqual(wanted, [{ format: 'iptables', context: undefined, encoding: undefined }]);
    const parse = await parser.parse({ file, text, ...wanted[0] });
    const module = e.modules.find((m) => m.id === 'iptables')!;
    assert.deepStrictEqual(parse, fileParse(module, text, file, undefined, undefined));
    // Marked so that a parse made on the main thread would show: the engine must use the adopted one.
    const marked = { ...parse, findings: parse.findings.map((f) => ({ ...f, message: `adopted: ${f.message}` })) };
    e.adoptParse(file, text, wanted[0], marked);
    e.setFile(file, text);
    const messages = (e.analyze().findingsByFile.get(file) ?? []).filter((f) => f.code === 'invalid-port').map((f) => f.message);
    assert.strictEqual(messages.length, 1);
    assert.match(messages[0], /^adopted: /);
    // A different text is parsed by the engine itself.
    e.setFile(file, text.replace('99999', '88888'));
    assert.doesNotMatch((e.analyze().findingsByFile.get(file) ?? [])[0].message, /^adopted/);
  });

  it('nothing is wanted for a text over the size limit or a file whose format only its content tells', () => {
    const e = engineWith({});
    assert.deepStrictEqual(e.parsesWanted('/ws/srv/app/compose.yaml', 'x'.repeat(4.5 * 1024 * 1024)), []);
    assert.deepStrictEqual(e.parsesWanted('/ws/notes/site.conf', 'server { listen 80; }\n'), []);
    assert.strictEqual(e.parsesWanted('/ws/notes/site.conf', 'server { listen 80; }\n', 'nginx')[0].format, 'nginx');
  });

  it('cancel() rejects the parse under way with Cancelled; the next parse starts a new worker', async () => {
    const file = '/ws/srv/app/compose.yaml';
    const running = parser.parse({ file, text: g.bigCompose(16_000), format: 'compose' });
    assert.ok(parser.busy);
    parser.cancel();
    await assert.rejects(running, (e) => e instanceof Cancelled);
    assert.ok(!parser.busy);
    const small = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n';
    const compose = engineWith({}).modules.find((m) => m.id === 'compose')!;
    assert.deepStrictEqual(await parser.parse({ file, text: small, format: 'compose' }), fileParse(compose, small, file, undefined, undefined));
  });
});
