#!/usr/bin/env node
/**
 * `npm run test:hostile`: the big hostile inputs of issue 17 that the suite does not build (the suite
 * keeps the small deterministic cases in test/unit/hostile.test.ts and test/protocol/hostile.test.ts).
 * Each case is generated (test/hostile/generators.ts), analysed once by the engine, and measured:
 * time and the process's resident memory. Fails (exit 1) on a throw, a case over 60 s, or over 1 GiB.
 */
require('tsx/cjs');
const { engineWith } = require('../test/helpers/engine');
const g = require('../test/hostile/generators');

const CASES = [
  ['sshd Include storm, 5,000 files', () => g.sshdIncludeStorm(5_000)],
  ['YAML merge-key chain 9x9', () => ({ '/ws/compose.yaml': g.yamlMergeChain(9, 9) })],
  ['YAML wide merge 50x100', () => ({ '/ws/compose.yaml': g.yamlWideMerge(50, 100) })],
  ['nftables jump diamond 16x4', () => ({ '/ws/etc/nftables.conf': g.nftDiamond(16, 4) })],
  ['iptables jump diamond 30x2', () => ({ '/ws/etc/iptables/rules.v4': g.iptablesDiamond(30, 2) })],
  ['rules.v4, 10,000 multiport rules (1.5 MB, 150,000 facts)', () => ({ '/ws/etc/iptables/rules.v4': g.bigRulesV4(10_000) })],
];

let failed = 0;
for (const [name, make] of CASES) {
  const files = { ...make(), '/ws/etc/ssh/sshd_config': 'Port 99999\n' };
  const t0 = process.hrtime.bigint();
  let note;
  try {
    const e = engineWith(files);
    const r = e.analyze();
    const canary = (r.findingsByFile.get('/ws/etc/ssh/sshd_config') ?? []).some((f) => f.code === 'invalid-port');
    if (!canary) throw new Error('the canary sshd_config lost its invalid-port finding');
    note = `${r.findingsByFile.size} files with findings`;
  } catch (e) {
    note = `FAILED: ${e.message}`;
    failed++;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss = process.memoryUsage().rss;
  if (ms > 60_000 || rss > 1024 ** 3) {
    failed++;
    note += ' (over the bound)';
  }
  console.log(`${name.padEnd(50)} ${String(Math.round(ms)).padStart(7)} ms ${String(Math.round(rss / 1024 ** 2)).padStart(6)} MiB  ${note}`);
  if (global.gc) global.gc();
}
console.log(failed ? `${failed} case(s) failed` : `all ${CASES.length} cases passed`);
process.exit(failed ? 1 : 0);
