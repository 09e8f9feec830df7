/** Listening and stopping: an HTTP server with bounded timeouts and an idempotent, bounded close. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from '../log.js';
import type { CommonConfig } from '../config.js';
import type { RunningService } from '../lifecycle.js';
import type { AppState } from './app.js';

export interface ServerOptions {
  host: string;
  port: number;
  logger: Logger;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  /** Largest request head (request line and headers) in bytes. */
  maxHeaderBytes?: number;
}

export interface RunningServer {
  /** `http://host:port` as actually bound (port 0 resolved). */
  url: string;
  port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish, then cuts what is left after
   * `timeoutMs`. Returns the same promise on every call.
   */
  close(timeoutMs: number): Promise<void>;
}

const HEADERS_TOO_LARGE = JSON.stringify({
  error: { code: 'HEADERS_TOO_LARGE', message: 'request headers are larger than the limit' },
});
const MALFORMED = JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'malformed HTTP request' } });

export async function listen(app: Koa<AppState>, options: ServerOptions): Promise<RunningServer> {
  const server = http.createServer({ maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024 }, app.callback());
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.headersTimeout = Math.min(options.requestTimeoutMs, 10_000);

  // Requests Node rejects before Koa sees them (oversized or malformed heads) still get a JSON body.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = tooLarge ? HEADERS_TOO_LARGE : MALFORMED;
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  options.logger.info({ url }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (timeoutMs: number) =>
    (closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      // Keep-alive sockets with no request in flight would otherwise hold close() open.
      server.closeIdleConnections();
    }));
  return { url, port, close };
}

export interface ServeHooks {
  /** Called first when stopping, e.g. to start answering /readyz with 503. */
  onStopping?: () => void;
  /** Called once the server has drained, e.g. to close a client. */
  afterClose?: () => Promise<void> | void;
}

/**
 * Listens on the service's HOST and PORT with its timeouts, and returns the running service:
 * `stop()` (idempotent) drains the server within SHUTDOWN_TIMEOUT_MS, then runs `afterClose`.
 */
export async function serve(app: Koa<AppState>, config: CommonConfig, logger: Logger, hooks: ServeHooks = {}): Promise<RunningService> {
  const server = await listen(app, {
    host: config.HOST,
    port: config.PORT,
    logger,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  });
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    stop: () =>
      (stopped ??= (async () => {
        hooks.onStopping?.();
        await server.close(config.SHUTDOWN_TIMEOUT_MS);
        await hooks.afterClose?.();
      })()),
  };
}
