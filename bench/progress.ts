/** Progress lines on stderr while the benchmark runs; stdout is kept for the results. */

const tty = process.stderr.isTTY === true;

export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** One live status line per scenario: rewritten in place on a terminal, one line per update otherwise. */
export class ProgressLine {
  private last = '';

  constructor(private readonly label: string) {}

  update(text: string): void {
    const line = `  ${this.label} · ${text}`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
    this.last = line;
  }

  done(text: string): void {
    if (tty && this.last) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`  ${this.label} · ${text}\n`);
    this.last = '';
  }
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
