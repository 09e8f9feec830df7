/** Structured logging: one JSON line per event on stdout, with the service name on every line. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

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
    destination ?? pino.destination({ sync: false }),
  );
}
