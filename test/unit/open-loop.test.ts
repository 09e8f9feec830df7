/**
 * The bench's open loop: the scheduler keeps sending through a stall and charges the stall to every
 * request it delayed (no coordinated omission).
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOpenLoop } from '../../bench/open-loop.js';

describe('open-loop load', () => {
  it('keeps sending through a stall and measures each request from its due time', async () => {
    // Every answer is held until 500 ms after the first request arrives, then all are released.
    const held: http.ServerResponse[] = [];
    let release: NodeJS.Timeout | undefined;
    let released = false;
    const server = http.createServer((req, res) => {
      req.resume();
      if (released) return void res.end('ok');
      held.push(res);
      release ??= setTimeout(() => {
        released = true;
        for (const r of held) r.end('ok');
      }, 500);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const p = await runOpenLoop({ request: { url, method: 'POST', headers: {}, body: () => 'x' }, percent: 50, rateRps: 50, durationSec: 1 });
      expect(p).to.include({ requests: 50, errors: 0, non2xx: 0, percent: 50, offeredRps: 50 });
      // A closed loop would have waited: here a good share of the requests went out during the stall.
      expect(held.length).to.be.at.least(15);
      expect(p.maxInFlight).to.be.at.least(15);
      // ~25 requests were due in the stall's first 500 ms and waited up to 500 ms; a closed loop would report one slow request.
      expect(p.latencyMs.max).to.be.at.least(400);
      expect(p.latencyMs.p90).to.be.at.least(250);
    } finally {
      clearTimeout(release);
      await new Promise((r) => server.close(r));
    }
  });

  it('counts answers outside 2xx and refused connections as errors, apart from the latencies', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const p = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 25, rateRps: 40, durationSec: 0.25 });
    await new Promise((r) => server.close(r));
    expect(p).to.include({ requests: 10, non2xx: 10, errors: 0, achievedRps: 0 });
    expect(p.latencyMs.p99).to.be.NaN;
    const refused = await runOpenLoop({ request: { url, method: 'GET', headers: {} }, percent: 25, rateRps: 40, durationSec: 0.25 });
    expect(refused).to.include({ requests: 10, errors: 10 });
  });
});
