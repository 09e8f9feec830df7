/**
 * Reading a streamed NDJSON body line by line as it arrives (lib/service-client.ts opens the stream).
 */
import type http from 'node:http';
import { UpstreamError, classify } from './upstream-error.js';

/**
 * The lines of a streamed body (NDJSON), as they arrive: each batch is the complete lines of what
 * came in one go, so a reader holds one network chunk at a time. Only while the reader waits for
 * more does a silence count: longer than `silenceMs`, and the body is given up.
 * @throws UpstreamError (reason `reset`) when the sender cut the body short, or `timeout`
 */
export async function* readLines(res: http.IncomingMessage, url: string, silenceMs: number): AsyncGenerator<string[]> {
  res.setEncoding('utf8');
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<string>;
  let rest = '';
  try {
    for (;;) {
      const timer = setTimeout(() => res.destroy(Object.assign(new Error(`silent for ${silenceMs} ms`), { name: 'TimeoutError' })), silenceMs);
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw new UpstreamError(url, classify(err) === 'timeout' ? 'timeout' : 'reset', `GET ${url}: the body was cut short`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
      if (next.done) break;
      const lines = (rest + next.value).split('\n');
      rest = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
    if (!res.complete) throw new UpstreamError(url, 'reset', `GET ${url}: the body was cut short`);
  } finally {
    if (!res.complete) res.destroy();
  }
  if (rest !== '') throw new UpstreamError(url, 'reset', `GET ${url}: the body ended inside a line`);
}
