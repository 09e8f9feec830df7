/**
 * `--cpu-prof` for processes whose command line the bench does not own: Node refuses `--cpu-prof`
 * in NODE_OPTIONS, but accepts `--import` of this module, which runs the V8 sampling profiler
 * from the first tick and writes a `.cpuprofile` (the same format as `--cpu-prof`, for Chrome
 * DevTools or speedscope) when the process exits.
 *
 * `NODE_OPTIONS="--import=<abs path>/dist/bench/cpu-profile.js" BENCH_CPU_PROF_DIR=<dir>`
 * (the bench's `--cpu-prof DIR` sets both). The file is named after the service it profiled.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * What the profiled process runs: its first argument (the service, for `dist/bin/lab.js <service>`),
 * else its script's name. Not strict: the command line is the profiled program's, and its options
 * are not this module's to refuse.
 */
function programName(): string {
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: false, allowPositionals: true });
  return positionals[0] ?? basename(process.argv[1] ?? 'node', '.js');
}

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // The in-process session answers synchronously, so the profile can still be written on 'exit'.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const what = programName();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${what}.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
