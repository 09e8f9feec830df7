/**
 * Every command line of the repository is read one way (local/args.ts): an unknown option is
 * refused with a message naming it and the usage, exit code 2, before anything is started.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { UsageError, parseCommandLine } from '../../local/args.js';

describe('command lines', () => {
  it('parses options and positionals, and refuses an unknown option, a missing value or a stray argument', () => {
    const config = { options: { verbose: { type: 'boolean' }, top: { type: 'string' } }, allowPositionals: true } as const;
    expect(parseCommandLine({ ...config, args: ['--verbose', '--top', '3', 'a.cpuprofile'] })).to.deep.equal({
      values: { __proto__: null, verbose: true, top: '3' }, positionals: ['a.cpuprofile'],
    });
    expect(() => parseCommandLine({ ...config, args: ['--verbos'] })).to.throw(UsageError, /Unknown option '--verbos'/);
    expect(() => parseCommandLine({ ...config, args: ['--top'] })).to.throw(UsageError, /--top <value>' argument missing/);
    expect(() => parseCommandLine({ options: {}, args: ['extra'] })).to.throw(UsageError, /Unexpected argument 'extra'/);
  });

  const scripts: [string, string[]][] = [
    ['local/start.js', []],
    ['scripts/chaos.js', ['R1']],
    ['scripts/render-k8s.js', []],
    ['scripts/member-memory.js', []],
    ['bench/noop-server.js', ['0']],
    ['bench/profile-summary.js', ['x.cpuprofile']],
    ['bench/open-loop-chart.js', ['x.svg']],
    ['bench/otlp-sink.js', []],
    ['bench/read-line.js', []],
    ['drills/scenario.js', []],
  ];
  for (const [script, args] of scripts) {
    it(`${script}: an unknown option is named with the usage, exit 2, nothing started`, function () {
      this.timeout(20_000);
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', script), ...args, '--no-such-option'], { encoding: 'utf8', timeout: 15_000 });
      expect(r.stderr, r.stderr).to.match(/^Unknown option '--no-such-option'/);
      expect(r.stderr).to.match(/\nusage: /);
      expect(r.stdout).to.equal('');
      expect(r.status).to.equal(2);
    });
  }

  it('says which value is wrong, not only that something is', () => {
    const run = (script: string, args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'dist', script), ...args], { encoding: 'utf8', timeout: 15_000 });
    const chaos = run('scripts/chaos.js', ['R1', 'R99', '--repeat', '2']);
    expect(chaos.status).to.equal(2);
    expect(chaos.stderr).to.match(/^no such scenario: R99 \(there are R1, /);
    expect(run('scripts/chaos.js', ['--repeat', '0']).stderr).to.match(/^--repeat must be a whole number of runs, at least 1, not "0"/);
    expect(run('bench/profile-summary.js', ['--bench', 'b.json', 'x.cpuprofile']).stderr).to.match(/^--bench and --scenario go together/);
    expect(run('bench/noop-server.js', []).stderr).to.match(/^the port is missing\nusage: /);
  });

  it("bench/cpu-profile.js names a profile after the profiled program's first argument, and refuses none of its options", function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'lab-cpu-profile-'));
    try {
      const r = spawnSync(process.execPath, [`--import=${join(REPO_ROOT, 'dist', 'bench', 'cpu-profile.js')}`, join(REPO_ROOT, 'dist', 'bin', 'lab.js'), '--weird', 'nosuch'], {
        encoding: 'utf8', timeout: 15_000, env: { ...process.env, BENCH_CPU_PROF_DIR: dir },
      });
      expect(r.stderr).to.match(/^usage: lab </); // the program's own answer, not the profiler's
      expect(readdirSync(dir)).to.deep.equal([`nosuch.${r.pid}.cpuprofile`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
