/** Small HTTP helpers for tests: real requests, answers parsed as JSON when they are JSON. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Reply> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 15_000) });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

export const get = (url: string, headers: Record<string, string> = {}) => request(url, { headers });

export const postJson = (url: string, value: unknown, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) });

export const postForm = (url: string, fields: Record<string, string>) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

export const postRaw = (url: string, contentType: string | undefined, body: string) =>
  request(url, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

/** Serves a Koa app on a free loopback port; `close()` stops it. */
export async function serve(app: Koa<any>): Promise<{ url: string; close: () => Promise<void> }> {
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
