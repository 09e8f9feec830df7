/**
 * Streamed reads: a JSON array (or NDJSON) written batch by batch as it is read, with
 * backpressure, a cap on how many run at once, one deadline, and a stop all the way down when the
 * client goes away.
 *
 * The first batch is read before anything is sent, so a store that is down still gets a clean
 * 503. After the first byte the status is sent and cannot change: a failure then cuts the
 * connection (Koa's pipeline destroys the response), so a client never takes a truncated body
 * for a complete one.
 */
import { Readable } from 'node:stream';
import { HttpError } from '../errors.js';
import { prom, type MetricsRegistry } from '../metrics.js';
import type { AppContext } from './app.js';

/** How a streamed read ended; a metric label, so a closed set. */
export type ReadOutcome = 'complete' | 'aborted' | 'failed' | 'refused';

/** How items become the body's text. */
export interface BodyFormat<T> {
  /** Content type of the body. */
  type: string;
  /** Text before the first item, e.g. `[`. */
  open: string;
  /** One item as JSON. */
  encode: (item: T) => string;
  /** Between two items, e.g. `,`. */
  separator: string;
  /** Text after the last item, e.g. `]`; may wait for something read alongside. */
  close: () => string | Promise<string>;
}

/** A JSON array: `[item,item]`. */
export const jsonArray = <T>(encode: (item: T) => string = JSON.stringify): BodyFormat<T> => ({ type: 'application/json', open: '[', encode, separator: ',', close: () => ']' });

/** Newline-delimited JSON: one item per line, which a reader can take apart as it arrives. */
export const ndjson = <T>(encode: (item: T) => string = JSON.stringify): BodyFormat<T> => ({
  type: 'application/x-ndjson',
  open: '',
  encode: (item) => `${encode(item)}\n`,
  separator: '',
  close: () => '',
});

export interface StreamedReadsOptions {
  /** Reads that may stream at once; one more is refused with 503 and Retry-After. */
  maxConcurrent: number;
  /** Bound on one whole read, first byte to last (ms). */
  deadlineMs: number;
  metricsRegistry: MetricsRegistry;
}

/** The reads of one service; see the module comment. */
export class StreamedReads {
  private inFlight = 0;
  /** Those of `inFlight` that count against the cap. */
  private capped = 0;
  private readonly outcomes: prom.Counter<'outcome'>;

  constructor(private readonly options: StreamedReadsOptions) {
    this.outcomes = new prom.Counter({
      name: 'streamed_reads_total',
      help: 'Streamed reads by outcome: complete, aborted (the client went away), failed (after the first byte), refused (too many at once).',
      labelNames: ['outcome'] as const,
      registers: [options.metricsRegistry],
    });
    const inFlight = (): number => this.inFlight;
    new prom.Gauge({
      name: 'streamed_reads_in_flight',
      help: 'Streamed reads being sent now.',
      registers: [options.metricsRegistry],
      collect() {
        this.set(inFlight());
      },
    });
  }

  /**
   * Answers `ctx` with the items of `open(signal)`, batch by batch, framed by `format`. The signal
   * aborts when the client goes away or the deadline passes; `open` must stop reading then.
   * `capped: false` leaves a small read (one short page) out of the cap; it still streams.
   * @throws HttpError 503 READS_BUSY when `maxConcurrent` capped reads are streaming already
   * @throws whatever reading the first batch throws (nothing has been sent yet)
   */
  async send<T>(
    ctx: AppContext,
    open: (signal: AbortSignal) => AsyncIterable<T[]>,
    format: BodyFormat<T>,
    { capped = true } = {},
  ): Promise<void> {
    if (capped && this.capped >= this.options.maxConcurrent) {
      this.outcomes.inc({ outcome: 'refused' });
      throw new HttpError(503, 'READS_BUSY', `${this.options.maxConcurrent} reads are streaming already; try again shortly`, {
        headers: { 'Retry-After': '1' },
        expose: true,
      });
    }
    this.inFlight++;
    if (capped) this.capped++;
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(new HttpError(503, 'READ_DEADLINE', `the read took longer than ${this.options.deadlineMs} ms`)), this.options.deadlineMs);
    let failed = false;
    let settled = false;
    const settle = (outcome?: ReadOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.inFlight--;
      if (capped) this.capped--;
      if (outcome) this.outcomes.inc({ outcome });
    };
    ctx.res.once('close', () => {
      const outcome: ReadOutcome = failed ? 'failed' : ctx.res.writableFinished ? 'complete' : 'aborted';
      // The client went away: whatever is still reading for it stops.
      if (outcome === 'aborted') stop.abort();
      settle(outcome);
    });
    let batches: AsyncIterator<T[]>;
    let first: IteratorResult<T[]>;
    try {
      batches = open(stop.signal)[Symbol.asyncIterator]();
      first = await batches.next();
    } catch (err) {
      settle();
      if (!stop.signal.aborted) throw err;
      throw stop.signal.reason instanceof HttpError ? stop.signal.reason : new HttpError(499, 'CLIENT_CLOSED', 'the client closed the connection');
    }
    const log = ctx.state.log;
    async function* text(): AsyncGenerator<string> {
      try {
        let sep = '';
        let next = first;
        let head = format.open;
        while (!next.done) {
          if (next.value.length > 0) {
            yield head + sep + next.value.map(format.encode).join(format.separator);
            head = '';
            sep = format.separator;
          }
          next = await batches.next();
        }
        yield head + (await format.close());
      } catch (err) {
        if (!stop.signal.aborted || stop.signal.reason instanceof HttpError) {
          failed = true;
          log.warn({ err: (err as Error).message }, 'streamed read failed after the first byte; connection cut');
        }
        throw err;
      } finally {
        await batches.return?.();
      }
    }
    ctx.type = format.type;
    // One batch buffered ahead of the socket at most: backpressure reaches the store.
    ctx.body = Readable.from(text(), { objectMode: true, highWaterMark: 1 });
  }
}
