/**
 * What the command lines (the scenario, chaos, the bench) print for a person: a progress display on
 * stderr, plain-text tables, and numbers and durations as people read them.
 */

/** Whole numbers with thousands separators: 12,345. */
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A duration in seconds with one decimal: `2.5 s`. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export interface ProgressOptions {
  /** A spinner before the status on a terminal (default true). */
  spinner?: boolean;
  /** Where stderr is not a terminal (CI, pipes), print each status as a line (default: statuses are not shown there). */
  statusWhenPiped?: boolean;
}

/**
 * A progress display: one live status line rewritten in place on a terminal, and lines that stay.
 * Elsewhere (CI, pipes) only the lines that stay, unless `statusWhenPiped`.
 */
export class Progress {
  private text: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly options: ProgressOptions = {},
  ) {
    this.tty = out.isTTY === true;
  }

  /** A transient status, replaced by the next one. */
  status(text: string): void {
    this.text = text;
    if (!this.tty) {
      if (this.options.statusWhenPiped) this.out.write(`${text}\n`);
      return;
    }
    if (this.options.spinner !== false) this.timer ??= setInterval(() => this.draw(), 100);
    this.draw();
  }

  /** A line that stays; the status, if one is shown, is drawn again below it. */
  log(line: string): void {
    if (this.tty) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.tty && this.text !== undefined) this.draw();
  }

  /** Takes the status away; `line`, if given, stays in its place. */
  done(line?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.text = undefined;
    if (this.tty) this.out.write('\r\x1b[2K');
    if (line !== undefined) this.out.write(`${line}\n`);
  }

  private draw(): void {
    const spinner = this.options.spinner === false ? '' : `${'⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[this.frame++ % 10]} `;
    const width = Math.max(20, (this.out.columns || 100) - 3);
    this.out.write(`\r\x1b[2K${spinner}${this.text!.slice(0, width)}`);
  }
}

const isNumber = (cell: string | number) => typeof cell === 'number' || /^\d+(\/\d+)?$/.test(cell);

/**
 * A plain-text table: a header, a rule, one line per row, columns two spaces apart.
 * @param indent put before every line (default none)
 * @param rightAligned which columns are right-aligned (default: those whose every cell is a number, or `n/m`)
 */
export function table(
  headers: string[],
  rows: (string | number)[][],
  indent = '',
  rightAligned: (column: number) => boolean = (c) => rows.length > 0 && rows.every((r) => isNumber(r[c] ?? '')),
): string[] {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? '')].length)));
  const right = headers.map((_, c) => rightAligned(c));
  const line = (r: string[]) =>
    indent +
    r
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - [...cell].length);
        return right[c] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), indent + widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
}
