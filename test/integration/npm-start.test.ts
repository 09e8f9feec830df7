/**
 * `npm start` as a user runs it: the ten processes on the lab's ports, a quiet console, a form POST
 * answering 201, a second `npm start` (or any busy port) refused at once in one line, a component
 * that dies during start failing the start, and Ctrl+C (SIGINT) leaving no process behind.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { REPO_ROOT } from '../../local/repo.js';
import { LAB_PORTS, StartError } from '../../local/system.js';
import { isPortFree } from '../../local/ports.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { get, postForm, type FacadeList } from '../support/http.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', function () {
  this.timeout(240_000);
  let child: ChildProcess | undefined;
  let children: number[] = [];
  let output = '';

  before(async function () {
    const ports = [LAB_PORTS.facade, LAB_PORTS.messages, LAB_PORTS.configServer, ...LAB_PORTS.logging, ...LAB_PORTS.members];
    const busy = [];
    for (const p of ports) if (!(await isPortFree(p))) busy.push(p);
    if (busy.length > 0) {
      if (process.env.CI === 'true') throw new Error(`the lab's ports are taken: ${busy.join(', ')}`);
      console.warn(`\n  !!! SKIPPED: npm start needs the lab's ports, and ${busy.join(', ')} are in use (is the lab already running?)\n`);
      this.skip();
    }
  });

  // Should the test fail half-way, still stop everything: politely first, then by force.
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      child.kill('SIGKILL');
    }
    for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL');
  });

  it('refuses at once, in one line, when one of its ports is taken, naming the port and its holder', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(LAB_PORTS.configServer, '127.0.0.1', resolve));
    try {
      const t0 = Date.now();
      const { code, out } = await runToExit([]);
      expect(code).to.equal(1);
      expect(Date.now() - t0, 'before any member starts').to.be.below(10_000);
      expect(out.trim().split('\n'), out).to.have.length(1);
      expect(out.trim()).to.match(new RegExp(`^cannot start: port ${LAB_PORTS.configServer} \\(config-server\\) is in use by pid ${process.pid} \\(node .*mocha.*\\)\\. Is the lab already running\\? Stop it, or free the port\\.$`));
    } finally {
      holder.close();
    }
  });

  it('brings up ten processes quietly, stores a form post, refuses a second npm start, and stops them all on Ctrl+C', async () => {
    child = spawn(process.execPath, [join(REPO_ROOT, 'dist/local/start.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await eventually(() => expect(output).to.include('lab is up'), { timeoutMs: 150_000, intervalMs: 250 });
    expect(output).to.include('curl -d msg=hello http://127.0.0.1:8080/facade');

    // Members show warnings only; their INFO (the logo, the Jet advice, member lists) is in .run/logs.
    const startLines = output.slice(0, output.indexOf('lab is up')).split('\n');
    expect(startLines.length, startLines.join('\n')).to.be.below(60);
    expect(output).to.not.include('o---o');
    for (const n of [1, 2, 3]) expect(readFileSync(join(REPO_ROOT, '.run', 'logs', `hz-${n}.log`), 'utf8')).to.include('Members {size:3');
    expect(output).to.match(/✔ hz-1 +up/);

    const r = await postForm('http://127.0.0.1:8080/facade', { msg: 'hello' });
    expect(r.status).to.equal(201);
    expect((await get<FacadeList>('http://127.0.0.1:8080/facade')).body['logging-service']).to.deep.equal(['hello']);
    expect(output).to.match(/\[logging-\d\s*\] .*Message Was Logged: hello/);

    children = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    // With the supervisor itself, the ten processes: three members, three logging instances, facade, messages, config-server.
    expect(children).to.have.length(9);

    // A second npm start: refused before it starts anything, exit 1, and the first goes on.
    const second = await runToExit([]);
    expect(second.code).to.equal(1);
    expect(second.out).to.match(/^cannot start: port 5701 \(hz-1\) is in use by pid \d+ \(java com\.hazelcast\.core\.server\.HazelcastMemberStarter\); 11 more of its ports are taken too/);
    expect(second.out).to.not.include('✔');
    expect((await postForm('http://127.0.0.1:8080/facade', { msg: 'still here' })).status).to.equal(201);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(output).to.include('all stopped.');
    expect(output).to.match(/■ hz-1 +stopped\n/);
    expect(output).to.not.include('exit 143');
    expect(children.filter(alive), 'processes left behind').to.deep.equal([]);
  });
});

/** Runs `npm start`'s script to its exit; resolves with its exit code and all it printed. */
async function runToExit(args: string[]): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'dist/local/start.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out: stripVTControlCharacters(out) };
}

describe('a start in which a component dies', function () {
  this.timeout(240_000);
  after(stopAll);

  it('fails with that component named, stops the rest, and reports no component up after it exited', async () => {
    const states: string[] = [];
    const system = await createTestSystem({
      onState: (name, state) => {
        states.push(`${name} ${state}`);
        // As config-server starts, the cluster is up: a member dies now.
        if (name === 'config-server' && state === 'starting') system.members[2]!.kill('SIGKILL');
      },
    });
    const err = await system.start().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StartError);
    expect((err as StartError).component).to.equal('hz-3');
    expect((err as StartError).message).to.match(/hz-3 exited \(SIGKILL\) while the system was starting/);
    expect(system.processes().filter((p) => p.running).map((p) => p.name)).to.deep.equal([]);
    const died = states.indexOf('hz-3 failed');
    expect(died).to.be.greaterThan(-1);
    expect(states.slice(died).filter((s) => s === 'hz-3 up')).to.deep.equal([]);
  });
});
