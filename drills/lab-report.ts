/**
 * The report a teaching assistant reads: each of the five steps with its verdict and what it found
 * (messages per logging instance, entries per Hazelcast member, the read-back before and after
 * members are stopped). The steps themselves are in lab-steps.ts.
 */
import { seconds } from '../local/console.js';

export interface StepResult {
  n: number;
  title: string;
  ok: boolean;
  /** What was found, one line per fact; tables included. */
  lines: string[];
  error?: string;
  ms: number;
}

export interface LabReport {
  startedAt: Date;
  facadeUrl: string;
  mode: string;
  runId: string;
  steps: StepResult[];
  ok: boolean;
}

/** The report as text; `color` adds terminal colours to the verdicts. */
export function renderReport(r: LabReport, color = false): string {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const passed = r.steps.filter((s) => s.ok).length;
  const out: string[] = [
    '',
    paint(1, 'Lab report — messages in a Hazelcast distributed map'),
    '═'.repeat(60),
    `when      ${r.startedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    `facade    ${r.facadeUrl}`,
    `system    ${r.mode}`,
    `requests  every request carries x-request-id ${r.runId}-<step>, so each log line can be found`,
    '',
  ];
  for (const s of r.steps) {
    const verdict = s.ok ? paint(32, '✔ PASS') : paint(31, '✘ FAIL');
    out.push(`Step ${s.n}  ${verdict}  ${s.title}  (${seconds(s.ms)})`);
    out.push(...s.lines);
    if (s.error) out.push(paint(31, `   failed: ${s.error}`));
    out.push('');
  }
  out.push('═'.repeat(60));
  out.push(r.ok ? paint(32, `Result: all ${r.steps.length} steps passed.`) : paint(31, `Result: ${passed} of 5 steps passed.`));
  out.push('');
  return out.join('\n');
}
