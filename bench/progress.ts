/**
 * Progress lines on stderr while the benchmark runs; stdout is kept for the results. One display
 * (local/console.ts) for the whole run: no spinner, and every update a line of its own where stderr
 * is not a terminal, so a CI log shows how far each scenario got.
 */
import { Progress } from '../local/console.js';

const progress = new Progress(process.stderr, { spinner: false, statusWhenPiped: true });

/** A line that stays. */
export function note(line: string): void {
  progress.log(line);
}

/** The live status of one scenario, labelled with it: rewritten in place on a terminal. */
export class ProgressLine {
  constructor(private readonly label: string) {}

  update(text: string): void {
    progress.status(`  ${this.label} · ${text}`);
  }

  /** The scenario's last word, which stays. */
  done(text: string): void {
    progress.done(`  ${this.label} · ${text}`);
  }
}
