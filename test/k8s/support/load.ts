/**
 * A paced write load through the facade, for the suites that disturb a cluster under it (a member
 * roll, a node drain): what was acknowledged, what failed, and how long each write took.
 */

export interface LoadFigures {
  writes: number;
  /** The ids of the writes answered 201. */
  acked: string[];
  /** Writes answered otherwise, or not at all within 20 s. */
  failed: number;
  /** When each write ended (ms since the epoch) and whether it was acknowledged, in order. */
  outcomes: { at: number; ok: boolean }[];
  p50: number;
  p99: number;
  max: number;
}

/** One line for the suite's log: `writes 812, acknowledged 812, failed 0; latency p50 9 ms, p99 40 ms, max 210 ms`. */
export const describeLoad = (f: LoadFigures) =>
  `writes ${f.writes}, acknowledged ${f.acked.length}, failed ${f.failed}; latency p50 ${f.p50} ms, p99 ${f.p99} ms, max ${f.max} ms`;

/**
 * Starts POSTing `{msg: "<prefix>-<i>"}` to `facade`/facade, one at a time, `perSecond` a second at
 * most, until stop() is called; stop() resolves with the figures once the last write has ended.
 */
export function paceWrites(facade: string, prefix: string, perSecond = 20): { stop(): Promise<LoadFigures> } {
  const acked: string[] = [];
  const latencies: number[] = [];
  const outcomes: { at: number; ok: boolean }[] = [];
  let failed = 0;
  let stopping = false;
  const gap = 1000 / perSecond;
  const running = (async () => {
    for (let i = 0; !stopping; i++) {
      const t0 = Date.now();
      let ok = false;
      try {
        const r = await fetch(`${facade}/facade`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msg: `${prefix}-${i}` }), signal: AbortSignal.timeout(20_000),
        });
        const body = (await r.json()) as { message?: { uuid: string } };
        ok = r.status === 201;
        if (ok) acked.push(body.message!.uuid);
        else failed++;
      } catch {
        failed++;
      }
      latencies.push(Date.now() - t0);
      outcomes.push({ at: Date.now(), ok });
      await new Promise((r) => setTimeout(r, Math.max(0, gap - (Date.now() - t0))));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await running;
      const sorted = [...latencies].sort((a, b) => a - b);
      const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
      return { writes: latencies.length, acked, failed, outcomes, p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1) ?? 0 };
    },
  };
}
