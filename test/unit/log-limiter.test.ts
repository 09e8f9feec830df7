import { expect } from 'chai';
import { LogLimiter } from '../../lib/log-limiter.js';
import { createMetrics } from '../../lib/metrics.js';
import { createApp } from '../../services/logging/app.js';
import { unavailable } from '../../lib/errors.js';
import { InMemoryMessageStore, captureLogger } from '../support/fakes.js';
import { get, serve } from '../support/http.js';

describe('log limiter', () => {
  it('writes the first line of a kind per window, counts the rest, and reports the count when the window ends', async () => {
    const { logger, lines } = captureLogger();
    const metrics = createMetrics('test');
    let now = 0;
    const limiter = new LogLimiter(logger, { windowMs: 10_000, metricsRegistry: metrics.metricsRegistry, now: () => now });
    for (let i = 0; i < 50; i++) limiter.log('store down', 'error', { i }, 'request failed');
    limiter.log('other', 'warn', {}, 'something else');
    expect(lines.map((l) => l.msg)).to.deep.equal(['request failed', 'something else']);
    now = 10_000;
    limiter.flush();
    expect(lines).to.have.length(3);
    expect(lines[2]).to.include({ kind: 'store down', suppressed: 49, level: 'error' });
    limiter.log('store down', 'error', {}, 'request failed');
    expect(lines).to.have.length(4);
    expect(await metrics.metricsRegistry.getSingleMetricAsString('log_lines_suppressed_total')).to.include('log_lines_suppressed_total{kind="store down",service="test"} 49');
  });

  it('keeps a store outage to a couple of lines however many requests fail', async () => {
    const { logger, lines } = captureLogger('logging');
    const store = new InMemoryMessageStore();
    store.failWith = unavailable('STORE_UNAVAILABLE', 'the message store is unavailable');
    const metrics = createMetrics('logging');
    const { url, close } = await serve(createApp({ store, logger, metrics, instanceName: 'x', bodyLimitBytes: 1024, isReady: () => true }));
    try {
      for (let i = 0; i < 200; i++) expect((await get(`${url}/logging`)).status).to.equal(503);
      expect(lines.filter((l) => l.msg === 'request failed')).to.have.length(1);
      expect((await get(`${url}/metrics`)).text).to.include('log_lines_suppressed_total{kind="request failed: STORE_UNAVAILABLE",service="logging"} 199');
    } finally {
      await close();
    }
  });
});
