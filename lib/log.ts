/** Structured logging: one JSON line per event on stdout, with the service name on every line. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * stdout, written synchronously (pino's own default). An asynchronous destination must be flushed
 * at exit, and sonic-boom 4 retries that flush for ever once the reader of stdout is gone (EPIPE:
 * a supervisor killed, a `| head`), so a stopping service would never exit. Written synchronously,
 * a broken pipe just ends the logging.
 */
const stdoutDestination = (): DestinationStream => pino.destination({ sync: true });

export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Whole request bodies never reach the logs; these keys are cut wherever they appear.
      redact: { paths: ['body', 'req.body', 'headers.authorization', 'headers.cookie'], remove: true },
    },
    destination ?? stdoutDestination(),
  );
}
