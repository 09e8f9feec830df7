#!/usr/bin/env node
/**
 * What the facade spends checking each line of a read (lib/contract.ts `readLine`), against the way
 * it did before the text was decoded once: parse the whole line, check the object with the schema,
 * encode the text again. Prints lines per second, best of `--rounds`, for short and long texts.
 * `node dist/bench/read-line.js [--lines N] [--rounds N]`
 */
import { v7 as uuidv7 } from 'uuid';
import { idTextLine, readLine, storedMessage, type ReadLine } from '../lib/contract.js';
import { commandLineOrExit } from '../local/args.js';

const USAGE = 'usage: node dist/bench/read-line.js [--lines N (default 100000)] [--rounds N (default 10)]';

/** The check before (issue 13 to issue 25): JSON.parse of the line, the schema's uuid and msg, the text encoded again. */
const textLine = storedMessage.pick({ uuid: true, msg: true });
function parseCheckEncode(line: string): ReadLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const m = textLine.safeParse(value);
  return m.success ? { uuid: m.data.uuid, json: JSON.stringify(m.data.msg) } : undefined;
}

function bestRate(lines: string[], check: (line: string) => ReadLine | undefined, rounds: number): number {
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    let ok = 0;
    for (const line of lines) if (check(line)) ok++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (ok !== lines.length) throw new Error(`a check refused ${lines.length - ok} good lines`);
    best = Math.max(best, lines.length / seconds);
  }
  return best;
}

const { values } = commandLineOrExit(USAGE, { options: { lines: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '10' } } });
const count = Number(values.lines);
const rounds = Number(values.rounds);
for (const [name, text] of [['32-character texts', (i: number) => `message ${String(i).padStart(10, '0')} of the bench`], ['1,000-character texts with escapes', (i: number) => `"quoted"\n${'x'.repeat(980)}${i}`]] as const) {
  const lines = Array.from({ length: count }, (_, i) => idTextLine(uuidv7(), text(i)));
  const before = bestRate(lines, parseCheckEncode, rounds);
  const now = bestRate(lines, (l) => readLine(l, true), rounds);
  const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} lines/s (${(1e6 / n).toFixed(2)} µs a line)`;
  console.log(`${name}: parse, check, encode again ${fmt(before)}; readLine ${fmt(now)}; ${(now / before).toFixed(1)}×`);
}
