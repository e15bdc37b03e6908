/** Preloaded (`node -r`) into a measured process: prints its peak resident memory on exit, for the benchmark. */
'use strict';
process.on('exit', () => {
  process.stderr.write(`\nportolan-bench-maxrss-kb ${process.resourceUsage().maxRSS}\n`);
});
