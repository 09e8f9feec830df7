/**
 * The one way this repository's command lines are read: node:util `parseArgs`, strict, so an
 * unknown option, an option without its value or an argument where none is taken is refused with
 * Node's message naming it, the usage, and exit code 2 — never a stack trace, never ignored.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run as written; its message says what is wrong with it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * `parseArgs(config)` over `config.args` (default: this process's arguments), strict unless the
 * config says otherwise.
 * @throws UsageError for an unknown option, a missing value or a stray positional
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** Prints `problem` and `usage` on stderr and exits 2, the exit code of a command line misused. */
export function exitWithUsage(usage: string, problem: string): never {
  process.stderr.write(`${problem}\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
  process.exit(2);
}

/** `parseCommandLine(config)`, or for a misused command line its problem and `usage` on stderr and exit 2. */
export function commandLineOrExit<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseCommandLine(config);
  } catch (err) {
    if (err instanceof UsageError) exitWithUsage(usage, err.message);
    throw err;
  }
}
