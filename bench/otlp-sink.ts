#!/usr/bin/env node
/**
 * A stand-in OTLP/HTTP trace receiver on loopback: answers every `POST /v1/traces` with 200 and,
 * when asked, keeps the spans (the JSON encoding lib/tracing.ts exports). The tracing test reads
 * them back; the benchmark's services export to it to measure what tracing costs
 * (docs/performance.md): `node dist/bench/otlp-sink.js <port>`, which prints its counts on SIGTERM/SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { exitWithUsage, commandLineOrExit } from '../local/args.js';

/** One received span, with the service.name of its resource. Kinds as OTLP numbers them: 2 server, 3 client. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
}

export interface OtlpSink {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  /** Every span received so far (only when started with `keep`). */
  spans: ReceivedSpan[];
  /** Export requests and bytes received. */
  counts: { requests: number; bytes: number };
  close(): Promise<void>;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[] }[];
  }[];
}

function spansOf(body: OtlpJson): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map(({ traceId, spanId, parentSpanId, name, kind }) => {
        return { service, traceId, spanId, parentSpanId: parentSpanId || undefined, name, kind };
      }),
    );
  });
}

/** Listens on 127.0.0.1:`port` (0: a free one); with `keep`, parses and keeps every span. */
export async function startOtlpSink(port = 0, { keep = true } = {}): Promise<OtlpSink> {
  const spans: ReceivedSpan[] = [];
  const counts = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      counts.requests++;
      const body = Buffer.concat(chunks);
      counts.bytes += body.length;
      if (keep) spans.push(...spansOf(JSON.parse(body.toString('utf8')) as OtlpJson));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    spans,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const usage = 'usage: node dist/bench/otlp-sink.js [PORT (default 4318)]';
  const { positionals } = commandLineOrExit(usage, { allowPositionals: true, options: {} });
  const port = Number(positionals[0] ?? 4318);
  if (positionals.length > 1 || !Number.isInteger(port) || port < 0 || port > 65_535) exitWithUsage(usage, 'one port, 0 to 65535');
  const sink = await startOtlpSink(port, { keep: false });
  process.stdout.write(`otlp sink on ${sink.url}\n`);
  const stop = () => {
    process.stdout.write(`otlp sink: ${sink.counts.requests} exports, ${sink.counts.bytes} bytes\n`);
    void sink.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
