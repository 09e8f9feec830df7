/** Fakes for unit tests of pure logic; integration tests use real Hazelcast members instead. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../lib/log.js';
import type { Page } from '../../lib/paging.js';
import { outcomeOf, type MessageStore, type PutOutcome } from '../../services/logging/store.js';
import type { StoreSummary, StoredMessage, StoredValue } from '../../lib/contract.js';

/** A logger whose lines are kept in `lines` (parsed) instead of printed. */
export function captureLogger(service = 'test'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination: sink }), lines };
}

export const silentLogger = (): Logger => createLogger({ service: 'test', level: 'silent' });

/** The logging store's contract over a Map; `failing` makes every call throw like an unreachable cluster. */
export class InMemoryMessageStore implements MessageStore {
  readonly map = new Map<string, StoredValue>();
  failWith: Error | undefined;

  async put(uuid: string, value: StoredValue): Promise<PutOutcome> {
    if (this.failWith) throw this.failWith;
    const previous = this.map.get(uuid);
    if (!previous) this.map.set(uuid, value);
    return outcomeOf(previous, value.msg);
  }

  /** Batches of this many, so that streaming over several batches is exercised. */
  batchSize = 2;

  async *read(page: Page): AsyncGenerator<StoredMessage[]> {
    if (this.failWith) throw this.failWith;
    const all = [...this.map.entries()]
      .filter(([uuid]) => page.after === undefined || uuid > page.after)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, page.limit)
      .map(([uuid, v]) => ({ uuid, ...v }));
    for (let i = 0; i < all.length; i += this.batchSize) {
      if (this.failWith) throw this.failWith;
      yield all.slice(i, i + this.batchSize);
    }
  }

  async summary(): Promise<StoreSummary> {
    if (this.failWith) throw this.failWith;
    return {
      connected: true,
      mapName: 'messages',
      mapSize: this.map.size,
      members: [{ address: 'memory', uuid: '0', ownedEntries: this.map.size }],
      entriesCounted: 'exact',
      backupCount: null,
    };
  }
}
