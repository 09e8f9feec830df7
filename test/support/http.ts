/** Small HTTP helpers for tests: real requests, answers parsed as JSON when they are JSON. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { StoredMessage } from '../../lib/contract.js';
import type { AppState } from '../../lib/http/app.js';

export type { ClusterSummary, ErrorAnswer, StoredMessage } from '../../lib/contract.js';
export type { ClusterView } from '../../services/facade/cluster-view.js';

/** An answer; `B` is the body the test expects (not checked: the test's assertions check it). */
export interface Reply<B = unknown> {
  status: number;
  headers: Headers;
  body: B;
  text: string;
}

/** The facade's `GET /facade`. */
export interface FacadeList {
  'logging-service': string[];
  'messages-service': string | null;
}

/** The facade's `POST /facade` once stored. */
export interface FacadePosted {
  message: { uuid: string; msg: string };
  response: { success: string };
  loggedBy: string;
}

/** The facade's `GET /facade/messages`. */
export interface FacadeRecords {
  messages: StoredMessage[];
  readFrom: string | null;
}

/** Logging's `POST /logging` once stored. */
export interface LoggingStored {
  uuid: string;
  msg: string;
  loggedBy: string;
  outcome: string;
}

export async function request<B = unknown>(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Reply<B>> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 15_000) });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as B, text };
}

export const get = <B = unknown>(url: string, headers: Record<string, string> = {}) => request<B>(url, { headers });

export const postJson = <B = unknown>(url: string, value: unknown, headers: Record<string, string> = {}) =>
  request<B>(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) });

export const postForm = <B = unknown>(url: string, fields: Record<string, string>) =>
  request<B>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

export const postRaw = <B = unknown>(url: string, contentType: string | undefined, body: string) =>
  request<B>(url, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

/** Serves a Koa app on a free loopback port; `close()` stops it. */
export async function serve(app: Koa<AppState>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
