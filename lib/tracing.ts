/**
 * Traces with OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. When off, no SDK is
 * loaded or started and callers hold no `Tracing`: the hot path pays one `undefined` check.
 *
 * Spans are opened where calls enter and leave a service, with the API, rather than by the http
 * and Koa auto-instrumentations. Under ESM (this package is `"type": "module"`) the http
 * instrumentation does patch node:http without a loader, but the Koa one needs the
 * import-in-the-middle loader hook (`--experimental-loader` or `module.register` before Koa is
 * imported) and adds nothing without it; both are also process-wide, with one service.name per
 * process, so services started side by side in one test process could not be told apart, and
 * every outgoing request (member probes included) would pay for a span. Here the Koa base
 * (lib/http/app.ts) continues the caller's W3C `traceparent` in a server span, and ServiceClient
 * (lib/service-client.ts) opens a client span per attempt and sends its `traceparent`.
 *
 * Each service gets its own tracer provider (its own service.name), never registered globally.
 * The one process-wide piece is the AsyncLocalStorage context manager that carries the active
 * span across awaits, from a request's server span to the client spans of the calls it makes.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { CommonConfig } from './config.js';
import type { Logger } from './log.js';

export type { Span };

/** Bound on one export, and on the flush when a service stops. */
const EXPORT_TIMEOUT_MS = 5_000;

/** A service's tracer, and the W3C propagation of its context in and out. */
export class Tracing {
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    private readonly flushAndStop: () => Promise<void>,
  ) {}

  /** A server span continuing the caller's trace (its `traceparent`), or a new trace without one; and the context it is active in. */
  startServerSpan(method: string, headers: IncomingHttpHeaders): { span: Span; context: Context } {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, {
      keys: (carrier) => Object.keys(carrier),
      get: (carrier, key) => carrier[key],
    });
    const span = this.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Runs `fn` with `ctx` active, so spans started inside (and calls made) belong to it. */
  run<T>(ctx: Context, fn: () => T): T {
    return context.with(ctx, fn);
  }

  /** A client span for one outgoing attempt, child of the active span; its `traceparent` is added to `headers`. */
  startClientSpan(method: string, url: string, headers: OutgoingHttpHeaders): Span {
    const span = this.tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.full': url } });
    this.propagator.inject(trace.setSpan(context.active(), span), headers, {
      set: (carrier, key, value) => {
        carrier[key] = value;
      },
    });
    return span;
  }

  /** Exports what is buffered (within a bound) and stops; the same promise on every call. */
  shutdown(): Promise<void> {
    return (this.stopped ??= this.flushAndStop());
  }
}

/** Ends `span` with the HTTP status it got, or as failed with `err`; a 5xx marks it as an error. */
export function endSpan(span: Span | undefined, status?: number, err?: unknown): void {
  if (!span) return;
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  } else if (status !== undefined && status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The trace id of the span active now, for log lines; undefined outside any span. */
export const activeTraceId = (): string | undefined => trace.getActiveSpan()?.spanContext().traceId;

let contextManagerSet = false;

/**
 * Starts tracing for `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans are sampled at
 * OTEL_TRACES_SAMPLE_RATIO (a caller's choice is followed), batched, and sent as OTLP/HTTP JSON,
 * each export bounded by 5 s. The SDK is imported only then.
 * @returns the service's Tracing, or undefined when tracing is off
 */
export async function startTracing(
  service: string,
  config: Pick<CommonConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_TRACES_SAMPLE_RATIO'>,
  logger: Logger,
): Promise<Tracing | undefined> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return undefined;
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  if (!contextManagerSet) {
    contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  const url = `${endpoint}/v1/traces`;
  const exporter = new OTLPTraceExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS });
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLE_RATIO) }),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter, { exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
  logger.info({ url, sampleRatio: config.OTEL_TRACES_SAMPLE_RATIO }, 'tracing on');
  const flushAndStop = async () => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn({ url, timeoutMs: EXPORT_TIMEOUT_MS }, 'traces not all exported before stopping');
        resolve();
      }, EXPORT_TIMEOUT_MS);
    });
    await Promise.race([provider.shutdown().catch((err: unknown) => logger.warn({ err }, 'trace export failed on stop')), bound]);
    clearTimeout(timer);
  };
  return new Tracing(provider.getTracer('lab'), new W3CTraceContextPropagator(), flushAndStop);
}
