/**
 * Process lifecycle: run a service until SIGTERM/SIGINT, then stop it within a bounded time.
 * The stop is idempotent: a second signal while stopping does not start a second stop.
 */
import type { Logger } from './log.js';

export interface Stoppable {
  /** Stops the service; must itself be idempotent. */
  stop(): Promise<void>;
}

/** A started service: where it listens and how to stop it (idempotent, bounded). */
export interface RunningService extends Stoppable {
  url: string;
}

/** Starts a service and installs signal handlers; exits 0 after a clean stop, 1 on failure. */
export function runUntilSignalled(service: Stoppable, logger: Logger, timeoutMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // A last guard: if stopping itself hangs, leave anyway shortly after the bound.
    const guard = setTimeout(() => {
      logger.error({ timeoutMs }, 'stop took too long; exiting');
      process.exit(1);
    }, timeoutMs + 2_000);
    guard.unref();
    const exit = (code: number) => {
      try {
        logger.flush();
      } catch {
        // stdout is gone: nothing more can be said
      }
      setImmediate(() => process.exit(code));
    };
    service.stop().then(
      () => {
        logger.info('stopped');
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
