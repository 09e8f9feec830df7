/**
 * Traces across services: the facade, config-server and a logging app on real HTTP, exporting to
 * an OTLP/HTTP receiver on loopback. Logging runs over the in-memory store (the trace's path, not
 * Hazelcast, is what is checked here), with a server that records the headers it is sent.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start as startConfigServer } from '../../services/config-server/main.js';
import { loadConfigServerConfig } from '../../services/config-server/config.js';
import { start as startFacade } from '../../services/facade/main.js';
import { loadFacadeConfig } from '../../services/facade/config.js';
import { createApp as createLogging } from '../../services/logging/app.js';
import { createMetrics } from '../../lib/metrics.js';
import { startTracing } from '../../lib/tracing.js';
import { startOtlpSink, type OtlpSink, type ReceivedSpan } from '../../bench/otlp-sink.js';
import { InMemoryMessageStore, captureLogger } from '../support/fakes.js';
import { postForm } from '../support/http.js';

const SERVER = 2;
const CLIENT = 3;

interface Run {
  /** Headers of every request logging received. */
  loggingHeaders: http.IncomingHttpHeaders[];
  facadeLines: Record<string, unknown>[];
}

/** Starts config-server, logging and the facade (tracing on when `endpoint` is given), posts one message, stops them all. */
async function postThroughSystem(endpoint: string | undefined): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-traces-'));
  const otel = endpoint === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint };
  const stops: (() => Promise<void>)[] = [];
  const loggingHeaders: http.IncomingHttpHeaders[] = [];
  const facadeLog = captureLogger('facade');
  try {
    const { logger } = captureLogger('logging');
    const tracing = await startTracing('logging', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLE_RATIO: 1 }, logger);
    const store = new InMemoryMessageStore();
    const metrics = createMetrics('logging');
    const app = createLogging({ store, logger, metrics, instanceName: 'logging-0', bodyLimitBytes: 65536, isReady: () => true, tracing });
    const handle = app.callback();
    const server = http.createServer((req, res) => {
      loggingHeaders.push(req.headers);
      void handle(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await tracing?.shutdown();
    });
    const loggingUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logging`;

    const file = join(dir, 'service-config.json');
    writeFileSync(file, JSON.stringify({ 'logging-service': [loggingUrl], 'messages-service': [] }));
    const configServer = await startConfigServer(
      loadConfigServerConfig({ PORT: '0', REGISTRY_FILE: file, ...otel }),
      captureLogger('config-server').logger,
    );
    stops.unshift(() => configServer.stop());
    // A registry list older than 1 ms is refreshed during the POST, so config-server takes part in its trace.
    const facadeConfig = loadFacadeConfig({ PORT: '0', CONFIG_SERVER_URL: configServer.url, REGISTRY_TTL_MS: '1', ...otel });
    const facade = await startFacade(facadeConfig, facadeLog.logger);
    stops.unshift(() => facade.stop());
    await sleep(5);
    const res = await postForm(`${facade.url}/facade`, { msg: 'traced' });
    expect(res.status, res.text).to.equal(201);
  } finally {
    // The facade first, so its background registry refresh ends before config-server goes; each flushes its spans.
    for (const stop of stops) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { loggingHeaders, facadeLines: facadeLog.lines };
}

describe('traces', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(() => sink.close());

  it('carries one trace from the facade to config-server and logging, logging\'s span a child of the facade\'s call', async () => {
    const { loggingHeaders, facadeLines } = await postThroughSystem(sink.url);
    const post = sink.spans.find((s) => s.service === 'facade' && s.kind === SERVER && s.name === 'POST /facade');
    expect(post, JSON.stringify(sink.spans)).to.not.equal(undefined);
    const inTrace = sink.spans.filter((s) => s.traceId === post!.traceId);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const kindOf = (s: ReceivedSpan) => (s.kind === SERVER ? 'server' : s.kind === CLIENT ? 'client' : String(s.kind));
    const label = (s: ReceivedSpan | undefined) => s && `${s.service} ${kindOf(s)} ${s.name}`;

    expect(new Set(inTrace.map((s) => s.service))).to.deep.equal(new Set(['facade', 'config-server', 'logging']));
    const loggingServer = inTrace.find((s) => s.service === 'logging' && s.kind === SERVER && s.name === 'POST /logging');
    expect(loggingServer, JSON.stringify(inTrace)).to.not.equal(undefined);
    const caller = byId.get(loggingServer!.parentSpanId!);
    expect(label(caller)).to.equal('facade client POST');
    expect(caller!.parentSpanId).to.equal(post!.spanId);
    const registryServer = inTrace.find((s) => s.service === 'config-server' && s.kind === SERVER);
    expect(label(byId.get(registryServer!.parentSpanId!))).to.equal('facade client GET');
    expect(post!.parentSpanId).to.equal(undefined);

    // What went over the wire: W3C traceparent naming the facade's client span, sampled.
    const sent = loggingHeaders.find((h) => h.traceparent?.includes(caller!.spanId));
    expect(sent?.traceparent).to.equal(`00-${post!.traceId}-${caller!.spanId}-01`);
    // The request id stays, and the request's log lines carry the trace id beside it.
    const line = facadeLines.find((l) => l.msg === 'request' && l.path === '/facade');
    expect(line).to.include({ trace_id: post!.traceId });
    expect(line?.requestId).to.be.a('string');
  });

  it('sends no traceparent and exports nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    const before = { ...sink.counts };
    const { loggingHeaders, facadeLines } = await postThroughSystem(undefined);
    expect(loggingHeaders.length).to.be.greaterThan(0);
    expect(loggingHeaders.filter((h) => h.traceparent !== undefined || h.tracestate !== undefined)).to.deep.equal([]);
    expect(loggingHeaders.every((h) => typeof h['x-request-id'] === 'string')).to.equal(true);
    expect(facadeLines.filter((l) => 'trace_id' in l)).to.deep.equal([]);
    expect(sink.counts).to.deep.equal(before);
  });
});
