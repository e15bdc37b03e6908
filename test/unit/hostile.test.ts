/**
 * Hostile input (issue 17), pure engine: each input comes from a small generator
 * (test/hostile/generators.ts); before the fixes each one hung, exhausted memory or threw.
 * Each test asserts what the analysis says (no timing assertions: speed is measured in
 * scripts/hostile.js). The server-level cases are in test/protocol/hostile.test.ts.
 */
import * as assert from 'assert';
import { engineWith, shownFindings } from '../helpers/engine';
import * as g from '../hostile/generators';
import { checkEphemeralRanges, checkHosts } from '../../server/src/core/settings';
import { createFormatModules, detectFormat } from '../../server/src/formats/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { MAX_ANALYSED_CHARS, tooLarge } from '../../server/src/core/unread';

describe('hostile input: exponential expansions', () => {
  it('a YAML merge-key chain (each anchor merges the previous nine times) is expanded once per node', () => {
    const e = engineWith({ '/ws/compose.yaml': g.yamlMergeChain(9, 9) });
    const facts = e.analyze().factsByFile.get('/ws/compose.yaml') ?? [];
    assert.ok(
      facts.some((f) => f.port === 8080),
      'the service behind the merge chain still publishes 8080',
    );
    assert.deepStrictEqual(
      shownFindings(e).filter((f) => f.severity !== 'information' || f.code !== 'syntax'),
      [],
    );
  });

  it('merge keys that expand past the budget stop with one Information finding on the merge key', () => {
    const e = engineWith({ '/ws/compose.yaml': g.yamlWideMerge(50, 100) });
    const capped = shownFindings(e).filter((f) => /stopped expanding/.test(f.message));
    assert.strictEqual(capped.length, 1);
    assert.strictEqual(capped[0].severity, 'information');
    assert.strictEqual(capped[0].text, '<<');
    // An ordinary merge stays silent.
    const small = engineWith({ '/ws/compose.yaml': g.yamlWideMerge(3, 5) });
    assert.deepStrictEqual(shownFindings(small), []);
  });

  it('an nftables 16x4 jump diamond is walked once per chain and entry state', () => {
    const e = engineWith({ '/ws/etc/nftables.conf': g.nftDiamond(16, 4) });
    const r = e.analyze();
    assert.ok(r.firewalls.length === 1, 'one firewall');
    const rules = r.firewalls[0].firewall.inputRules;
    assert.ok(
      rules.some((x) => x.action === 'accept' && x.ports?.some((p) => p.from === 22)),
      'the accept at the end of the diamond is reached',
    );
    assert.ok(rules.length < 10_000, `bounded: ${rules.length} rules`);
    // Every path is its own entry state (4^15): the walk stops at 64 per chain (Information on the base chain);
    // 16 jumps deep: the kernel refuses it on the first jump into c15 (nft -f: Too many links, line 91).
    assert.deepStrictEqual(
      shownFindings(e).map((f) => [f.line, f.severity, f.code, f.messageId ?? f.text]),
      [
        [2, 'information', 'syntax', 'walk-capped'],
        [91, 'error', 'syntax', 'jump c15'],
      ],
    );
    assert.deepStrictEqual(
      shownFindings(engineWith({ '/ws/etc/nftables.conf': g.nftDiamond(15, 4) })).map((f) => f.messageId),
      ['walk-capped'],
    );
    assert.deepStrictEqual(shownFindings(engineWith({ '/ws/etc/nftables.conf': g.nftDiamond(3, 4) })), []);
  });

  it('iptables user chains 30x2 are walked once per chain and entry shape; the bound that stops the walk is said', () => {
    const e = engineWith({ '/ws/etc/iptables/rules.v4': g.iptablesDiamond(30, 2) });
    const r = e.analyze();
    const rules = r.firewalls[0].firewall.inputRules;
    assert.ok(rules.some((x) => x.action === 'accept' && x.ports?.some((p) => p.from === 22)));
    assert.ok(rules.length < 10_000, `bounded: ${rules.length} rules`);
    // 2^29 entry shapes into C29: the walk stops at 64 (Information); 16 jumps deep at line 64 (nf_tables backend: Too many links).
    assert.deepStrictEqual(
      shownFindings(e).map((f) => [f.line, f.severity, f.messageId ?? f.text]),
      [
        [2, 'information', 'walk-capped'],
        [64, 'warning', 'C15'],
      ],
    );
  });

  it('ufw user chains 30x2 under ufw-user-input: the bound that stops the walk is said as for iptables, a small diamond stays silent', () => {
    const file = '/ws/etc/ufw/user.rules';
    const e = engineWith({ [file]: g.ufwDiamond(30, 2) });
    const rules = e.analyze().firewalls.find((f) => f.root === file)!.firewall.inputRules;
    assert.ok(rules.some((x) => x.action === 'accept' && x.ports?.some((p) => p.from === 22)));
    const capped = shownFindings(e, file).filter((f) => f.messageId === 'walk-capped');
    assert.deepStrictEqual(
      capped.map((f) => [f.line, f.severity]),
      [[2, 'information']],
    );
    assert.match(capped[0].message, /ufw-user-input's jumps at 64 different entry conditions/);
    assert.deepStrictEqual(
      shownFindings(engineWith({ [file]: g.ufwDiamond(4, 2) }), file).filter((f) => f.messageId === 'walk-capped'),
      [],
    );
  });

  it('jump depth: 15 nested jumps load, the 16th is refused where nft -f refuses it', () => {
    const chain = (n: number) => {
      const out = ['table inet f {', '  chain input {', '    type filter hook input priority 0; policy drop;', '    jump c0', '  }'];
      for (let i = 0; i < n; i++) out.push(`  chain c${i} {`, i < n - 1 ? `    jump c${i + 1}` : '    tcp dport 22 accept', '  }');
      return [...out, '}', ''].join('\n');
    };
    assert.deepStrictEqual(shownFindings(engineWith({ '/ws/etc/nftables.conf': chain(15) })), []);
    for (const n of [16, 40])
      assert.deepStrictEqual(
        shownFindings(engineWith({ '/ws/etc/nftables.conf': chain(n) })).map((f) => [f.line, f.text]),
        [[49, 'jump c15']],
      );
  });

  it('70 rules jumping to one chain with 70 different sources: the walk stops at 64 entry states with one Information', () => {
    const nft = ['table inet f {', '  chain input {', '    type filter hook input priority 0; policy drop;'];
    const ipt = ['*filter', ':INPUT DROP [0:0]', ':C1 - [0:0]'];
    for (let j = 0; j < 70; j++) {
      nft.push(`    ip saddr 10.0.0.${j} jump c1`);
      ipt.push(`-A INPUT -s 10.0.0.${j} -j C1`);
    }
    nft.push('  }', '  chain c1 {', '    tcp dport 22 accept', '  }', '}', '');
    ipt.push('-A C1 -p tcp --dport 22 -j ACCEPT', 'COMMIT', '');
    for (const [file, text] of [
      ['/ws/etc/nftables.conf', nft],
      ['/ws/etc/iptables/rules.v4', ipt],
    ] as const) {
      const found = shownFindings(engineWith({ [file]: text.join('\n') }));
      assert.deepStrictEqual(
        found.map((f) => [f.severity, f.messageId]),
        [['information', 'walk-capped']],
        file,
      );
      assert.match(found[0].message, /64 different entry conditions/);
      // 64 sources are one fewer than needed: 60 stay silent.
      const fewer = text.filter((l) => !/10\.0\.0\.(6\d)\b/.test(l)).join('\n');
      assert.deepStrictEqual(shownFindings(engineWith({ [file]: fewer })), [], file);
    }
  });
});

describe('hostile input: jump loops are refused as the programs refuse them', () => {
  it('nftables: the jump that closes a loop reached from a base chain is a syntax error (nft -f: Too many links)', () => {
    const e = engineWith({ '/ws/etc/nftables.conf': g.nftJumpLoop() });
    const found = shownFindings(e).filter((f) => /Jump loop/.test(f.message));
    assert.deepStrictEqual(
      found.map((f) => [f.line, f.col, f.code, f.severity, f.text]),
      [[11, 5, 'syntax', 'error', 'jump a']],
    );
    assert.match(found[0].message, /a → b → a/);
  });

  it('nftables: a loop no base chain reaches is loaded by nft and stays silent', () => {
    const text = g
      .nftJumpLoop()
      .replace('    type filter hook input priority 0; policy drop;\n    jump a\n', '    type filter hook input priority 0; policy drop;\n');
    assert.deepStrictEqual(
      shownFindings(engineWith({ '/ws/etc/nftables.conf': text })).filter((f) => /Jump loop/.test(f.message)),
      [],
    );
  });

  it('iptables-restore: the rule that closes a loop is a syntax error on its target', () => {
    const e = engineWith({ '/ws/etc/iptables/rules.v4': g.iptablesJumpLoop() });
    const found = shownFindings(e).filter((f) => /Jump loop/.test(f.message));
    assert.deepStrictEqual(
      found.map((f) => [f.line, f.code, f.severity, f.text]),
      [[8, 'syntax', 'error', 'A']],
    );
  });

  it('iptables-restore: no loop without a jump back, and none unreachable from a built-in chain', () => {
    const noBack = g.iptablesJumpLoop().replace('-A B -j A\n', '-A B -j RETURN\n');
    const unreachable = g.iptablesJumpLoop().replace('-A INPUT -j A\n', '');
    for (const text of [noBack, unreachable])
      assert.deepStrictEqual(
        shownFindings(engineWith({ '/ws/etc/iptables/rules.v4': text })).filter((f) => /Jump loop/.test(f.message)),
        [],
      );
  });
});

describe('hostile input: many facts', () => {
  it('a rules.v4 with 150,000 facts is analysed (no spread of unbounded arrays)', () => {
    const e = engineWith({ '/ws/etc/iptables/rules.v4': g.bigRulesV4(10_000), '/ws/etc/ssh/sshd_config': 'Port 99999\n' });
    const r = e.analyze();
    assert.ok((r.factsByFile.get('/ws/etc/iptables/rules.v4') ?? []).length >= 150_000);
    assert.ok(shownFindings(e, '/ws/etc/ssh/sshd_config').some((f) => f.code === 'invalid-port'));
  });
});

describe('hostile input: content detection is linear', () => {
  const modules = createFormatModules(loadRegistry(), { firewalldServices: loadFirewalldServices() });
  it('a file of 200,000 blank lines is no format (each line start looks only at its own line)', () => {
    assert.strictEqual(detectFormat(modules, '/ws/notes.txt', g.blankLines(200_000)), undefined);
  });
  it('a config after a run of blank lines is still recognised', () => {
    const blank = g.blankLines(5_000);
    assert.strictEqual(detectFormat(modules, '/ws/a.txt', `${blank}  table inet f {\n  chain input { }\n}\n`)?.id, 'nftables');
    assert.strictEqual(detectFormat(modules, '/ws/b.txt', `${blank}\thttp {\n  server { listen 80; }\n}\n`)?.id, 'nginx');
    assert.strictEqual(detectFormat(modules, '/ws/c.txt', `${blank}  Port 2222\nPermitRootLogin no\n`)?.id, 'sshd');
  });
});

describe('hostile input: bad settings keep the valid part and say what was dropped', () => {
  it('portolan.hosts of the wrong type maps no hosts, with a reason', () => {
    for (const bad of ['web', 42, [null]]) {
      const r = checkHosts(bad);
      assert.deepStrictEqual(r.value, {});
      assert.strictEqual(r.problems.length, 1, String(bad));
    }
  });
  it('portolan.hosts keeps its valid hosts and globs', () => {
    const r = checkHosts({ web: ['web/**', 3], db: 'db/**', ok: ['ok/**'] });
    assert.deepStrictEqual(r.value, { web: ['web/**'], ok: ['ok/**'] });
    assert.strictEqual(r.problems.length, 2);
    assert.deepStrictEqual(checkHosts({ ok: ['ok/**'] }).problems, []);
  });
  it('portolan.ephemeralRanges [1,2] or ["70000-1"] falls back to the defaults (ephemeral warnings stay on)', () => {
    for (const bad of [[1, 2], ['70000-1'], 'x']) {
      const r = checkEphemeralRanges(bad);
      assert.deepStrictEqual(
        r.value.map((x) => [x.from, x.to]),
        [
          [49152, 65535],
          [32768, 60999],
        ],
      );
      assert.ok(r.problems.length > 0);
    }
    const mixed = checkEphemeralRanges(['10000-20000', 'nope']);
    assert.deepStrictEqual(
      mixed.value.map((x) => [x.from, x.to]),
      [[10000, 20000]],
    );
    assert.strictEqual(mixed.problems.length, 1);
    assert.deepStrictEqual(checkEphemeralRanges(['10000-20000']).problems, []);
  });
});

describe('hostile input: bounded include expansion', () => {
  it('an sshd Include glob over 5,000 files that each include it: one bounded instance, one finding, every file analysed', () => {
    const files = g.sshdIncludeStorm(5_000);
    const e = engineWith({ ...files, '/ws/etc/ssh/sshd_config': 'Port 99999\n' });
    const r = e.analyze();
    const cuts = shownFindings(e).filter((f) => /stopped following includes/.test(f.message));
    // One finding per bound hit: the files per instance, and the depth (each file includes the glob again).
    assert.deepStrictEqual(cuts.map((c) => (/2,000 files/.test(c.message) ? 'files' : /nest more than 32 deep/.test(c.message) ? 'depth' : c.message)).sort(), [
      'depth',
      'files',
    ]);
    assert.ok(cuts.every((c) => c.severity === 'information' && c.text === '/ws/etc/ssh/sshd_config.d/*.conf'));
    // The first instance holds 2,000 files; the files it did not reach are read alone, not as 3,000 more instances of 2,000.
    const holders = new Map<string, number>();
    for (const f of Object.keys(files)) for (const root of e.instancesOf(f)) holders.set(root, (holders.get(root) ?? 0) + 1);
    const sizes = [...holders.values()].sort((a, b) => b - a);
    assert.strictEqual(sizes[0], 2_000);
    assert.ok(sizes.slice(1).every((n) => n === 1));
    for (const f of Object.keys(files)) assert.ok((r.factsByFile.get(f) ?? []).length > 0, `${f} analysed`);
    // The unrelated sshd_config beside it is its own instance and still checked.
    assert.ok(shownFindings(e, '/ws/etc/ssh/sshd_config').some((f) => f.code === 'invalid-port'));
  });

  it('files a root includes are not roots of their own; a small include stays silent', () => {
    const e = engineWith({
      '/ws/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n',
      '/ws/etc/ssh/sshd_config.d/a.conf': 'Port 2222\n',
      '/ws/etc/ssh/sshd_config.d/b.conf': 'Port 2223\n',
    });
    assert.deepStrictEqual(e.instancesOf('/ws/etc/ssh/sshd_config.d/b.conf'), ['/ws/etc/ssh/sshd_config']);
    assert.deepStrictEqual(
      shownFindings(e).filter((f) => /stopped following/.test(f.message)),
      [],
    );
  });

  it('an nginx include glob over 2,500 files: the include past the bound is said, the rest still analysed', () => {
    const files: Record<string, string> = { '/ws/etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n' };
    for (let i = 0; i < 2_500; i++) files[`/ws/etc/nginx/conf.d/s${String(i).padStart(4, '0')}.conf`] = `server { listen ${2000 + i}; }\n`;
    const e = engineWith(files);
    const r = e.analyze();
    const cuts = shownFindings(e).filter((f) => /stopped following includes/.test(f.message));
    assert.deepStrictEqual(
      cuts.map((c) => [c.file, c.line, c.text]),
      [['/ws/etc/nginx/nginx.conf', 3, '/etc/nginx/conf.d/*.conf']],
    );
    assert.ok(
      (r.factsByFile.get('/ws/etc/nginx/conf.d/s2499.conf') ?? []).some((f) => f.port === 4499),
      'a file past the bound is analysed',
    );
    assert.deepStrictEqual(e.instancesOf('/ws/etc/nginx/conf.d/s0001.conf'), ['/ws/etc/nginx/nginx.conf']);
  });

  it('includes nested 40 deep stop at 32 with one finding', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/ws/etc/nginx/n${i}.conf`] = `listen ${3000 + i};\ninclude /etc/nginx/n${i + 1}.conf;\n`;
    files['/ws/etc/nginx/nginx.conf'] = 'events {}\nhttp { server { include /etc/nginx/n0.conf; } }\n';
    const cuts = shownFindings(engineWith(files)).filter((f) => /stopped following includes/.test(f.message));
    assert.strictEqual(cuts.length, 1);
    assert.match(cuts[0].message, /nest more than 32 deep/);
  });
});

describe('hostile input: the size limit holds for opened documents as for files on disk', () => {
  it('a 15 MB rules.v4 handed to the engine (an opened document) is not parsed: one Information note, the canary still checked', () => {
    const big = g.bigRulesV4(100_000);
    assert.ok(big.length > MAX_ANALYSED_CHARS);
    const e = engineWith({ '/ws/etc/iptables/rules.v4': big, '/ws/etc/ssh/sshd_config': 'Port 99999\n' });
    assert.deepStrictEqual(
      shownFindings(e, '/ws/etc/iptables/rules.v4').map((f) => [f.line, f.severity, f.code, f.messageId]),
      [[1, 'information', 'syntax', 'too-large']],
    );
    assert.match(shownFindings(e, '/ws/etc/iptables/rules.v4')[0].message, /14\.4 MB, over Portolan's limit of 4\.0 MB/);
    assert.deepStrictEqual(e.analyze().factsByFile.get('/ws/etc/iptables/rules.v4') ?? [], []);
    assert.ok(shownFindings(e, '/ws/etc/ssh/sshd_config').some((f) => f.code === 'invalid-port'));
    // Cut back under the limit, the same file is analysed again.
    e.setFile('/ws/etc/iptables/rules.v4', g.bigRulesV4(100));
    assert.deepStrictEqual(
      shownFindings(e, '/ws/etc/iptables/rules.v4').filter((f) => f.messageId === 'too-large'),
      [],
    );
    assert.ok((e.analyze().factsByFile.get('/ws/etc/iptables/rules.v4') ?? []).length >= 1_500);
  });

  it('the limit is on the length: exactly the limit is analysed, one character more is not', () => {
    assert.strictEqual(tooLarge('x'.repeat(MAX_ANALYSED_CHARS)), undefined);
    assert.deepStrictEqual(tooLarge('x'.repeat(MAX_ANALYSED_CHARS + 1)), { kind: 'too-large', size: MAX_ANALYSED_CHARS + 1, limit: MAX_ANALYSED_CHARS });
  });

  it('a file the workspace did not read (setUnread) gets one note where a format claims or includes it, and loses it when read again', () => {
    const e = engineWith({ '/ws/etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n' });
    e.setUnread('/ws/etc/ssh/sshd_config', { kind: 'not-text', why: 'it holds NUL bytes' });
    e.setUnread('/ws/etc/nginx/conf.d/blob.conf', { kind: 'too-large', size: 50 * 1024 * 1024, limit: MAX_ANALYSED_CHARS });
    // Nothing claims or includes this one: no note.
    e.setUnread('/ws/srv/blob.yml', { kind: 'not-text', why: 'it holds NUL bytes' });
    assert.deepStrictEqual(
      shownFindings(e).map((f) => [f.file, f.line, f.severity, f.messageId]),
      [
        ['/ws/etc/nginx/conf.d/blob.conf', 1, 'information', 'too-large'],
        ['/ws/etc/ssh/sshd_config', 1, 'information', 'not-text'],
      ],
    );
    e.setFile('/ws/etc/ssh/sshd_config', 'Port 2222\n');
    assert.deepStrictEqual(shownFindings(e, '/ws/etc/ssh/sshd_config'), []);
  });
});
