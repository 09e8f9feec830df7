import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { FALLBACK_TICKS_PER_SECOND, cpuMs, machineCpuMs, readTicksPerSecond } from '../../bench/process-stats.js';

describe('process stats from /proc', () => {
  it("reads the clock ticks per second from the system, and falls back to Linux's 100 without getconf", () => {
    expect(readTicksPerSecond()).to.equal(Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })));
    expect(readTicksPerSecond(() => '250\n')).to.equal(250);
    expect(readTicksPerSecond(() => { throw Object.assign(new Error('spawnSync getconf ENOENT'), { code: 'ENOENT' }); })).to.equal(FALLBACK_TICKS_PER_SECOND);
    for (const odd of ['', 'undefined\n', '-1', '1.5']) expect(readTicksPerSecond(() => odd), odd).to.equal(FALLBACK_TICKS_PER_SECOND);
  });

  it("counts a process's CPU time in milliseconds, as the kernel does for this one", () => {
    const before = process.cpuUsage();
    const fromProcBefore = cpuMs(process.pid)!;
    const until = Date.now() + 300;
    let spin = 0;
    while (Date.now() < until) spin++;
    const used = process.cpuUsage(before);
    const fromProc = cpuMs(process.pid)! - fromProcBefore;
    expect(spin).to.be.greaterThan(0);
    // Whole ticks (10 ms at 100 per second) on either side; a wrong tick rate would be off by a factor.
    expect(fromProc).to.be.closeTo((used.user + used.system) / 1000, 40);
  });

  it("gives the machine's CPU time in milliseconds, no more than the cores could have used", async () => {
    const start = machineCpuMs()!;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    const end = machineCpuMs()!;
    const cores = cpus().length; // what /proc/stat counts, which a container's nproc may not be
    const wallMs = Date.now() - t0;
    expect(end.total - start.total).to.be.within(wallMs * cores * 0.5, wallMs * cores * 1.5 + 20);
    expect(end.busy - start.busy).to.be.within(0, end.total - start.total);
  });
});
