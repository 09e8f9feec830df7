/**
 * `npm start` as a user runs it: the ten processes on the lab's ports, a form POST answering 201,
 * and Ctrl+C (SIGINT) leaving no process behind.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/hazelcast.js';
import { LAB_PORTS } from '../../local/system.js';
import { isPortFree } from '../../local/ports.js';
import { eventually } from '../support/eventually.js';
import { get, postForm } from '../support/http.js';

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

  it('brings up ten processes, stores a form post, and stops them all on Ctrl+C', async () => {
    child = spawn(process.execPath, [join(REPO_ROOT, 'dist/local/start.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await eventually(() => expect(output).to.include('lab is up'), { timeoutMs: 150_000, intervalMs: 250 });
    expect(output).to.include('curl -d msg=hello http://127.0.0.1:8080/facade');

    const r = await postForm('http://127.0.0.1:8080/facade', { msg: 'hello' });
    expect(r.status).to.equal(201);
    expect((await get('http://127.0.0.1:8080/facade')).body['logging-service']).to.deep.equal(['hello']);
    expect(output).to.match(/\[logging-\d\s*\] .*Message Was Logged: hello/);

    children = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    // With the supervisor itself, the ten processes: three members, three logging instances, facade, messages, config-server.
    expect(children).to.have.length(9);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(output).to.include('all stopped.');
    expect(children.filter(alive), 'processes left behind').to.deep.equal([]);
  });
});
