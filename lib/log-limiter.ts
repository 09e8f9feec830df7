/**
 * Logs that stay readable while a dependency is down: of each kind of line (an error code, an
 * instance and failure reason, ...) the first in every window is written in full and the rest are
 * only counted, in `log_lines_suppressed_total{kind}` and in one summary line when the window
 * ends. A cluster that is down for minutes writes a few lines a minute per kind, not one stack
 * trace per request.
 */
import type { Logger } from './log.js';
import { prom, type MetricsRegistry } from './metrics.js';

type Level = 'warn' | 'error';

interface Window {
  startedAt: number;
  suppressed: number;
  level: Level;
}

export interface LogLimiterOptions {
  /** One full line per kind per this many ms (default 10,000). */
  windowMs?: number;
  /** Where `log_lines_suppressed_total` is registered; none: only the summary lines count. */
  metricsRegistry?: MetricsRegistry;
  now?: () => number;
}

export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly suppressedTotal: prom.Counter<'kind'> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    options: LogLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10_000;
    this.now = options.now ?? Date.now;
    if (options.metricsRegistry) {
      // One counter per metrics registry, shared by every limiter of the service.
      this.suppressedTotal =
        (options.metricsRegistry.getSingleMetric('log_lines_suppressed_total') as prom.Counter<'kind'> | undefined) ??
        new prom.Counter({
          name: 'log_lines_suppressed_total',
          help: 'Log lines not written because a line of the same kind was written within the window; counted instead.',
          labelNames: ['kind'] as const,
          registers: [options.metricsRegistry],
        });
    }
    // Closes windows nobody writes to any more, so their counts are reported; never keeps the process up.
    this.timer = setInterval(() => this.flush(), this.windowMs);
    this.timer.unref();
  }

  /** Writes the line, or counts it when a line of this kind was written within the window. */
  log(kind: string, level: Level, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const open = this.windows.get(kind);
    if (open && now - open.startedAt < this.windowMs) {
      open.suppressed++;
      this.suppressedTotal?.inc({ kind });
      return;
    }
    if (open) this.summarise(kind, open);
    this.windows.set(kind, { startedAt: now, suppressed: 0, level });
    this.logger[level]({ ...fields, kind }, message);
  }

  /** Reports and forgets every window that has ended. */
  flush(): void {
    const now = this.now();
    for (const [kind, w] of this.windows) {
      if (now - w.startedAt < this.windowMs) continue;
      this.summarise(kind, w);
      this.windows.delete(kind);
    }
  }

  private summarise(kind: string, w: Window): void {
    if (w.suppressed === 0) return;
    this.logger[w.level]({ kind, suppressed: w.suppressed, windowMs: this.windowMs }, `${w.suppressed} more "${kind}" lines in ${Math.round(this.windowMs / 1000)} s, not written`);
  }
}
