/**
 * `npm run scenario`, run as a user runs it, in its three ways of stopping members: attached to a
 * running local system (processes found by port and killed by pid), against "Kubernetes" (it asks
 * for kubectl deletes; the test plays the person and kills the processes named), and on a system
 * of its own that it starts and stops.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../local/repo.js';
import type { LocalSystem } from '../../local/system.js';
import { createTestSystem, stopAll } from '../support/system.js';

const SCRIPT = join(REPO_ROOT, 'dist', 'drills', 'scenario.js');
const running = new Set<ChildProcess>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the scenario to its end (bounded); `onLine` sees each stderr line as it comes. */
function scenario(args: string[], onLine: (line: string) => void = () => undefined, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += `${line}\n`;
      onLine(line);
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM'); // lets it stop a system it started
      reject(new Error(`scenario ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}\n${stdout}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

const failed = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

function expectFullReport(r: Run): void {
  expect(r.code, failed(r)).to.equal(0);
  for (let n = 1; n <= 5; n++) expect(r.stdout).to.match(new RegExp(`^Step ${n}  ✔ PASS`, 'm'));
  expect(r.stdout).to.include('Messages per logging instance');
  expect(r.stdout).to.include('Entries per Hazelcast member');
  expect(r.stdout).to.match(/sum +\d+ {2}= map size \d+/);
  expect(r.stdout).to.match(/before stopping anything +3 +3 +10\/10 +yes/);
  expect(r.stdout).to.match(/after stopping also .* +1 +1 +10\/10 +yes/);
  expect(r.stdout).to.include('Result: all 5 steps passed.');
  expect(r.stderr, 'a progress line per step').to.match(/step 5: passed/);
}

describe('npm run scenario', function () {
  this.timeout(600_000);
  let system: LocalSystem;

  before(async () => {
    system = await createTestSystem();
    await system.start();
  });
  after(async () => {
    for (const child of running) child.kill('SIGTERM');
    await stopAll();
  });

  it('runs the five steps against a running local system, stopping members and instances by pid', async () => {
    const r = await scenario(['--facade', system.facadeUrl]);
    expectFullReport(r);
    expect(r.stdout).to.include('the local system already running');
    expect(r.stdout).to.match(/SIGKILL pid \d+ \(logging http:\/\/127\.0\.0\.1:\d+\/logging\) and SIGKILL pid \d+ \(member 127\.0\.0\.1:\d+\)/);
    expect(system.logging.filter((p) => p?.running)).to.have.length(1);
    expect(system.members.filter((p) => p?.running)).to.have.length(1);
    expect(r.stderr).to.match(/This run stopped logging http:\/\/127\.0\.0\.1:\d+\/logging, member 127\.0\.0\.1:\d+, logging .*; restart npm start/);
  });

  it('refuses within seconds a running system left degraded (here by the run above), and stops nothing', async () => {
    const t0 = Date.now();
    const r = await scenario(['--facade', system.facadeUrl]);
    expect(r.code, failed(r)).to.equal(2);
    expect(Date.now() - t0).to.be.below(20_000);
    expect(r.stderr).to.match(/the running system is degraded: 1 of 3 logging instances ready, 1 Hazelcast member\b/);
    expect(r.stderr).to.include('restart npm start');
    expect(r.stderr).to.not.include('This run stopped');
    expect(r.stdout).to.equal('');
    expect(system.logging.filter((p) => p?.running)).to.have.length(1);
    expect(system.members.filter((p) => p?.running)).to.have.length(1);
  });

  it('against Kubernetes, prints the kubectl commands and waits until the pods are gone', async () => {
    // Back to three members and three logging instances, the map keeping the ten messages.
    for (const i of [0, 1, 2]) if (!system.members[i]?.running) await system.startMember(i, false);
    await system.waitForCluster(3);
    await Promise.all([0, 1, 2].filter((i) => !system.logging[i]?.running).map((i) => system.startLogging(i)));

    // The test plays the person at the keyboard: it stops what the scenario asks to be deleted.
    const asked: string[] = [];
    const r = await scenario(['--facade', system.facadeUrl, '--kubernetes', '--namespace', 'lab', '--wait-timeout', '120'], (line) => {
      const m = /# logging instance (\S+) and Hazelcast member (\S+)/.exec(line);
      if (!m) return;
      asked.push(line);
      const li = system.ports.logging.findIndex((p) => m[1] === `http://127.0.0.1:${p}/logging`);
      const mi = system.ports.members.findIndex((p) => m[2] === `127.0.0.1:${p}`);
      system.logging[li]!.kill('SIGKILL');
      system.members[mi]!.kill('SIGKILL');
    });
    expectFullReport(r);
    expect(asked).to.have.length(2);
    expect(r.stderr).to.include('kubectl -n lab delete --wait=false $(kubectl -n lab get pod -o name --field-selector status.podIP=127.0.0.1)');
    expect(r.stdout).to.include('by you, with kubectl, when asked');
    expect(r.stdout).to.include('the map already held 10 messages');
  });

  it('starts a system of its own when asked, and stops all of it at the end', async () => {
    const r = await scenario(['--own-system', '--free-ports']);
    expectFullReport(r);
    expect(r.stdout).to.include('a local system started for this run');
    // Nothing it started answers any more.
    const facade = /^facade +(\S+)/m.exec(r.stdout)![1]!;
    const err = await fetch(`${facade}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(() => undefined, (e: Error & { cause?: { code?: string } }) => e);
    expect(err?.cause?.code).to.equal('ECONNREFUSED');
  });
});
