/** Stopping a real service process: SIGTERM drains it and it exits 0, even when nobody reads its logs any more. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { freePorts } from '../support/ports.js';
import { eventually } from '../support/eventually.js';
import { get } from '../support/http.js';

describe('service lifecycle', () => {
  it('exits 0 on SIGTERM within the bound even after the reader of its stdout went away (EPIPE)', async () => {
    const [port] = await freePorts(1);
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/bin/lab.js'), 'messages'], {
      env: { ...process.env, PORT: String(port), SHUTDOWN_TIMEOUT_MS: '2000' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await eventually(async () => expect((await get(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200));
      // Like a supervisor that was killed, or `| head`: the pipe's read end closes.
      child.stdout!.destroy();
      await get(`http://127.0.0.1:${port}/messages`);
      const t0 = Date.now();
      child.kill('SIGTERM');
      const [code] = await Promise.race([once(child, 'exit'), new Promise((_, reject) => setTimeout(() => reject(new Error('did not exit within 8 s')), 8_000))]) as [number];
      expect(code).to.equal(0);
      expect(Date.now() - t0).to.be.below(8_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
