/**
 * Work in steps (issue 17: a hover answers while a big opened file is analysed): the parses of big
 * files and the engine's analysis pause between bounded pieces of work (core/steps.ts). What a run in
 * steps gives equals the run in one piece; in a pause the engine answers from the analysis before and
 * changes wait for the analysis under way; a run in slices lets the event loop in and stops when
 * superseded. No timing here: pauses are counted, not measured.
 */
import * as assert from 'assert';
import * as path from 'path';
import { fileParse, fileParseSteps } from '../../server/src/core/engine';
import { drain, runInSlices } from '../../server/src/core/steps';
import { createFormatModules } from '../../server/src/formats/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { analysisAnswers, engineWith, readTree } from '../helpers/engine';

const modules = createFormatModules(loadRegistry(), { firewalldServices: loadFirewalldServices() });
const moduleOf = (id: string) => modules.find((m) => m.id === id)!;

/** Runs `steps` to the end, counting the pauses. */
function counted<T>(steps: Generator<void, T, void>): { value: T; pauses: number } {
  let pauses = 0;
  for (;;) {
    const r = steps.next();
    if (r.done) return { value: r.value, pauses };
    pauses++;
  }
}

/** A rules.v4 of `n` rules, each opening a port (every tenth a multiport list, every 97th a mistake). */
function bigRulesV4(n: number): string {
  const lines = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < n; i++) {
    const port = 1024 + (i % 60000);
    if (i % 97 === 0) lines.push(`-A INPUT -p tcp --dport 7000${i % 10} -j ACCEPT`);
    else if (i % 10 === 0) lines.push(`-A INPUT -p tcp -m multiport --dports ${port},${port + 1}:${port + 3} -j ACCEPT`);
    else lines.push(`-A INPUT -p ${i % 3 ? 'tcp' : 'udp'} --dport ${port} -j ACCEPT`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** An nginx.conf of `n` servers (every 50th listening on a port out of range), and a listen nginx rejects outside them. */
function bigNginx(n: number): string {
  const servers: string[] = [];
  for (let i = 0; i < n; i++) servers.push(`  server {\n    listen ${i % 50 === 0 ? 70000 + i : 1024 + i};\n    server_name s${i}.example.org;\n  }`);
  return `events {}\nhttp {\n${servers.join('\n')}\n  listen 80;\n}\n`;
}

describe('work in steps (issue 17)', () => {
  describe('parses in steps', () => {
    const cases: { format: string; file: string; text: string }[] = [
      { format: 'iptables', file: '/ws/etc/iptables/rules.v4', text: bigRulesV4(20_000) },
      { format: 'nginx', file: '/ws/etc/nginx/nginx.conf', text: bigNginx(6_000) },
      // With a byte-order mark: the encoding's finding is kept in steps too.
      { format: 'nginx', file: '/ws/etc/nginx/bom.conf', text: `\ufeff${bigNginx(3_000)}` },
    ];
    for (const { format, file, text } of cases) {
      it(`${format}: ${path.basename(file)} (${(text.length / 1024).toFixed(0)} KiB) gives the parse in one piece, pausing as it reads`, () => {
        const module = moduleOf(format);
        const whole = fileParse(module, text, file, undefined, undefined);
        const { value, pauses } = counted(fileParseSteps(module, text, file, undefined, undefined));
        assert.deepStrictEqual(value, whole);
        // nginx's facts come from linking its tree: its parse has the tree and the port findings.
        assert.ok(
          whole.findings.length > 50 && (format === 'nginx' || whole.facts.length > 1000),
          `the case has facts (${whole.facts.length}) and findings (${whole.findings.length}) to compare`,
        );
        // At least one pause per 64 KiB read (nginx) or 2,048 lines (rules.v4).
        assert.ok(pauses >= Math.floor(text.length / (64 * 1024)), `${pauses} pauses in ${text.length} characters`);
      });
    }

    it('a format without parseSteps, a template and a file over the size limit are parsed in one step', () => {
      const sshd = moduleOf('sshd');
      assert.strictEqual(counted(fileParseSteps(sshd, 'Port 22\n', '/ws/etc/ssh/sshd_config', undefined, undefined)).pauses, 0);
      const nginx = moduleOf('nginx');
      const template = 'server {\n  listen {{ port }};\n}\n';
      const { value, pauses } = counted(fileParseSteps(nginx, template, '/ws/nginx.conf.j2', undefined, undefined));
      assert.strictEqual(pauses, 0);
      assert.deepStrictEqual(value, fileParse(nginx, template, '/ws/nginx.conf.j2', undefined, undefined));
      const huge = `events {}\n${'#'.repeat(5 * 1024 * 1024)}\n`;
      const over = counted(fileParseSteps(nginx, huge, '/ws/etc/nginx/nginx.conf', undefined, undefined));
      assert.strictEqual(over.pauses, 0);
      assert.deepStrictEqual(over.value, fileParse(nginx, huge, '/ws/etc/nginx/nginx.conf', undefined, undefined));
      assert.match(over.value.findings[0].message, /over Portolan's limit/);
    });
  });

  describe('runInSlices', () => {
    function* busy(pieces: number, msEach: number, log: string[]): Generator<void, number, void> {
      try {
        for (let i = 0; i < pieces; i++) {
          const until = Date.now() + msEach;
          while (Date.now() < until);
          yield;
        }
        return pieces;
      } finally {
        log.push('finally');
      }
    }

    it('lets a timer set before it run between two slices, and gives the result', async () => {
      const log: string[] = [];
      setTimeout(() => log.push('timer'), 0);
      const run = runInSlices(busy(12, 10, log), () => true, 20);
      log.push('started');
      assert.strictEqual(await run, 12);
      // The timer fired after the first slice, long before the last piece.
      assert.deepStrictEqual(log, ['started', 'timer', 'finally']);
    });

    it('stops between slices once no longer wanted, closing the work', async () => {
      const log: string[] = [];
      let wanted = true;
      setTimeout(() => (wanted = false), 0);
      const result = await runInSlices(busy(1000, 5, log), () => wanted, 10);
      assert.strictEqual(result, undefined);
      assert.deepStrictEqual(log, ['finally']);
    });

    it('a throw in the work rejects the run', async () => {
      // eslint-disable-next-line require-yield
      function* fails(): Generator<void, number, void> {
        throw new Error('bug');
      }
      await assert.rejects(
        runInSlices(fails(), () => true),
        /bug/,
      );
    });

    it('drain runs it all at once', () => {
      const log: string[] = [];
      assert.strictEqual(drain(busy(3, 0, log)), 3);
      assert.deepStrictEqual(log, ['finally']);
    });
  });

  describe('the analysis in steps', () => {
    const examples = readTree(path.resolve(__dirname, '..', '..', 'examples'));
    const SITE = '/ws/etc/nginx/sites-enabled/extra.conf';
    const KEYS = '/ws/etc/ssh/sshd_config.d/steps.conf';

    it('gives what the analysis in one piece gives, pausing per instance and per host', () => {
      const stepped = engineWith(examples);
      const { value, pauses } = counted(stepped.analyzeSteps());
      const whole = engineWith(examples);
      assert.strictEqual(analysisAnswers(stepped), analysisAnswers(whole));
      assert.strictEqual(value, stepped.analyze());
      assert.ok(pauses > Object.keys(examples).length / 4, `${pauses} pauses over ${Object.keys(examples).length} files`);
    });

    it('in a pause: answers from the analysis before, changes wait for the end, and the next analysis makes them', () => {
      const engine = engineWith(examples);
      const before = engine.analyze();
      engine.setFile(SITE, 'server {\n  listen 70001;\n}\n');
      const steps = engine.analyzeSteps();
      steps.next();
      steps.next();
      assert.strictEqual(engine.analyze(), before, 'a request in a pause gets the analysis before');
      // A change in the pause waits: the analysis under way is of the texts it began with.
      engine.setFile(KEYS, 'Port 70002\n');
      assert.strictEqual(engine.text(KEYS), undefined);
      assert.throws(() => drain(engine.analyzeSteps()), /already running/);
      const made = drain(steps);
      assert.ok(made !== before);
      const codesIn = (file: string) => (made.findingsByFile.get(file) ?? []).map((f) => f.code);
      assert.ok(codesIn(SITE).length > 0, 'the site is analysed');
      assert.strictEqual(made.findingsByFile.get(KEYS), undefined, 'the change in the pause is not');
      assert.strictEqual(engine.text(KEYS), undefined);
      assert.strictEqual(engine.applyWaiting(), true);
      assert.strictEqual(engine.applyWaiting(), false);
      assert.strictEqual(engine.text(KEYS), 'Port 70002\n');
      const fresh = engineWith({
        ...examples,
        'etc/nginx/sites-enabled/extra.conf': 'server {\n  listen 70001;\n}\n',
        'etc/ssh/sshd_config.d/steps.conf': 'Port 70002\n',
      });
      assert.strictEqual(analysisAnswers(engine), analysisAnswers(fresh));
    });

    it('hosts changed in a pause (whenIdle) are applied after it, in order with the files', () => {
      const engine = engineWith(examples);
      engine.analyze();
      engine.setFile(SITE, 'server {\n  listen 8081;\n}\n');
      const steps = engine.analyzeSteps();
      steps.next();
      const order: string[] = [];
      engine.setFile(KEYS, 'Port 2200\n');
      engine.whenIdle(() => {
        order.push(engine.text(KEYS) ?? 'none');
        engine.hosts.setFolders([{ folder: '/ws', hosts: { bastion: ['etc/ssh/**'] } }]);
      });
      assert.deepStrictEqual(order, []);
      drain(steps);
      engine.applyWaiting();
      assert.deepStrictEqual(order, ['Port 2200\n']);
      const fresh = engineWith({
        ...examples,
        'etc/nginx/sites-enabled/extra.conf': 'server {\n  listen 8081;\n}\n',
        'etc/ssh/sshd_config.d/steps.conf': 'Port 2200\n',
      });
      fresh.hosts.setFolders([{ folder: '/ws', hosts: { bastion: ['etc/ssh/**'] } }]);
      assert.strictEqual(analysisAnswers(engine), analysisAnswers(fresh));
      assert.ok(engine.hostModels().has('/ws#bastion'));
    });
  });
});
