/** Prometheus metrics: one metrics registry per service app, so several apps can live in one test process. */
import client from 'prom-client';

/** prom-client's registry of metrics (not config-server's registry of service instances). */
export type MetricsRegistry = client.Registry;

export interface HttpMetrics {
  metricsRegistry: MetricsRegistry;
  requests: client.Counter<'method' | 'route' | 'status'>;
  duration: client.Histogram<'method' | 'route' | 'status'>;
}

/** Creates a metrics registry with the process metrics and the HTTP request metrics every service exposes. */
export function createMetrics(service: string): HttpMetrics {
  const metricsRegistry = new client.Registry();
  metricsRegistry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: metricsRegistry });
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [metricsRegistry],
  });
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metricsRegistry],
  });
  return { metricsRegistry, requests, duration };
}

export { client as prom };
