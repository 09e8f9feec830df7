/**
 * Bad input, table-driven, against the four real services: every case gets the right 4xx with a
 * JSON error body that carries no stack trace or internal detail, the service stays healthy, and
 * the stored messages do not change.
 */
import { expect } from 'chai';
import type { LocalSystem } from '../../local/system.js';
import { newMessageId } from '../../lib/ids.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { get, postForm, request, type ErrorAnswer, type FacadeList, type Reply } from '../support/http.js';

type Target = 'facade' | 'logging' | 'messages' | 'config-server';

interface Case {
  name: string;
  target: Target;
  send: (base: string) => Promise<Reply<ErrorAnswer>>;
  status: number;
  code: string;
}

const json = (path: string, body: string, method = 'POST') => (base: string) =>
  request<ErrorAnswer>(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
const raw = (path: string, contentType: string, body: string) => (base: string) =>
  request<ErrorAnswer>(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
const plain = (path: string, method = 'GET', headers: Record<string, string> = {}) => (base: string) =>
  request<ErrorAnswer>(`${base}${path}`, { method, headers });

const taken = newMessageId();

const CASES: Case[] = [
  // facade: POST /facade
  { name: 'form without msg', target: 'facade', send: raw('/facade', 'application/x-www-form-urlencoded', 'text=hello'), status: 400, code: 'MISSING_MSG' },
  { name: 'empty msg', target: 'facade', send: raw('/facade', 'application/x-www-form-urlencoded', 'msg='), status: 400, code: 'EMPTY_MSG' },
  { name: 'whitespace msg', target: 'facade', send: json('/facade', '{"msg": " \\t\\n "}'), status: 400, code: 'EMPTY_MSG' },
  { name: 'numeric msg', target: 'facade', send: json('/facade', '{"msg": 42}'), status: 400, code: 'INVALID_MSG' },
  { name: 'object msg', target: 'facade', send: json('/facade', '{"msg": {"a": 1}}'), status: 400, code: 'INVALID_MSG' },
  { name: 'repeated msg in a form', target: 'facade', send: raw('/facade', 'application/x-www-form-urlencoded', 'msg=a&msg=b'), status: 400, code: 'INVALID_MSG' },
  { name: 'JSON null', target: 'facade', send: json('/facade', 'null'), status: 400, code: 'INVALID_BODY' },
  { name: 'JSON array', target: 'facade', send: json('/facade', '["msg"]'), status: 400, code: 'INVALID_BODY' },
  { name: 'JSON number', target: 'facade', send: json('/facade', '12'), status: 400, code: 'INVALID_BODY' },
  { name: 'invalid JSON', target: 'facade', send: json('/facade', '{"msg": "x",}'), status: 400, code: 'INVALID_BODY' },
  { name: 'deeply nested JSON', target: 'facade', send: json('/facade', `{"msg": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`), status: 400, code: 'INVALID_MSG' },
  { name: 'prototype key in JSON', target: 'facade', send: json('/facade', '{"__proto__": {"msg": "x"}}'), status: 400, code: 'INVALID_BODY' },
  { name: 'XML body', target: 'facade', send: raw('/facade', 'application/xml', '<msg>x</msg>'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'multipart body', target: 'facade', send: raw('/facade', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="msg"\r\n\r\nhi\r\n--x--'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form body over 64 KiB', target: 'facade', send: raw('/facade', 'application/x-www-form-urlencoded', `msg=${'x'.repeat(70_000)}`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'JSON body over 64 KiB', target: 'facade', send: json('/facade', JSON.stringify({ msg: 'y'.repeat(70_000) })), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'headers over 16 KiB', target: 'facade', send: plain('/facade', 'GET', { 'x-big': 'z'.repeat(20_000) }), status: 431, code: 'HEADERS_TOO_LARGE' },
  { name: 'unknown route', target: 'facade', send: plain('/admin'), status: 404, code: 'NOT_FOUND' },
  { name: 'wrong method', target: 'facade', send: plain('/facade', 'DELETE'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'negative limit', target: 'facade', send: plain('/facade?limit=-5'), status: 400, code: 'INVALID_LIMIT' },
  { name: 'huge limit', target: 'facade', send: plain('/facade?limit=99999999999999'), status: 400, code: 'INVALID_LIMIT' },
  { name: 'garbage limit', target: 'facade', send: plain('/facade?limit=%27%3B--'), status: 400, code: 'INVALID_LIMIT' },
  { name: 'non-UUID after', target: 'facade', send: plain('/facade?after=..%2F..%2F'), status: 400, code: 'INVALID_AFTER' },
  // logging
  { name: 'malformed uuid', target: 'logging', send: json('/logging', '{"uuid": "01a2-zz", "msg": "x"}'), status: 400, code: 'INVALID_UUID' },
  { name: 'numeric uuid', target: 'logging', send: json('/logging', '{"uuid": 42, "msg": "x"}'), status: 400, code: 'INVALID_UUID' },
  { name: 'missing msg', target: 'logging', send: json('/logging', `{"uuid": "${newMessageId()}"}`), status: 400, code: 'INVALID_MSG' },
  { name: 'id conflict', target: 'logging', send: json('/logging', `{"uuid": "${taken}", "msg": "a different text"}`), status: 409, code: 'UUID_CONFLICT' },
  { name: 'text body', target: 'logging', send: raw('/logging', 'text/plain', 'hello'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'zero limit', target: 'logging', send: plain('/logging?limit=0'), status: 400, code: 'INVALID_LIMIT' },
  { name: 'wrong method', target: 'logging', send: plain('/logging', 'PUT'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  // config-server
  { name: '__proto__ name', target: 'config-server', send: plain('/services/__proto__'), status: 400, code: 'INVALID_NAME' },
  { name: 'constructor name', target: 'config-server', send: plain('/services/constructor'), status: 404, code: 'NOT_FOUND' },
  { name: 'encoded path traversal', target: 'config-server', send: plain('/services/..%2F..%2Fetc%2Fpasswd'), status: 400, code: 'INVALID_NAME' },
  { name: 'double-encoded dots', target: 'config-server', send: plain('/services/%252e%252e'), status: 400, code: 'INVALID_NAME' },
  { name: 'unknown service', target: 'config-server', send: plain('/services/payments'), status: 404, code: 'NOT_FOUND' },
  { name: 'wrong method', target: 'config-server', send: plain('/services', 'POST'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  // messages
  { name: 'wrong method', target: 'messages', send: plain('/messages', 'POST'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'unknown route', target: 'messages', send: plain('/messages/1'), status: 404, code: 'NOT_FOUND' },
];

describe('bad input, across all four services', function () {
  this.timeout(120_000);
  let system: LocalSystem;
  let stored: string[];
  const bases = {} as Record<Target, string>;

  before(async () => {
    system = await createTestSystem({ logLevel: 'warn' });
    await system.start();
    bases.facade = system.facadeUrl;
    bases.logging = system.loggingUrl(0);
    bases.messages = `http://127.0.0.1:${system.ports.messages}`;
    bases['config-server'] = system.configServerUrl;
    expect((await request(`${bases.logging}/logging`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: taken, msg: 'original' }) })).status).to.equal(201);
    for (const msg of ['kept-1', 'kept-2']) expect((await postForm(`${system.facadeUrl}/facade`, { msg })).status).to.equal(201);
    stored = (await get<FacadeList>(`${system.facadeUrl}/facade`)).body['logging-service'];
  });
  after(stopAll);

  it(`has at least 30 cases (${CASES.length})`, () => expect(CASES.length).to.be.at.least(30));

  for (const c of CASES) {
    it(`${c.target}: ${c.name} → ${c.status} ${c.code}`, async () => {
      const r = await c.send(bases[c.target]);
      expect(r.status).to.equal(c.status);
      expect(r.headers.get('content-type')).to.match(/^application\/json/);
      expect(r.body.error.code).to.equal(c.code);
      expect(r.body.error.message).to.be.a('string').and.not.match(/\bat .+:\d+:\d+|node_modules|\/work\/|Error:/);
      expect((await get(`${bases[c.target]}/healthz`)).status, 'still healthy').to.equal(200);
      expect((await get<FacadeList>(`${system.facadeUrl}/facade`)).body['logging-service'], 'stored data unchanged').to.deep.equal(stored);
    });
  }

  it('stores unicode, emoji and control characters exactly, and returns them as sent', async () => {
    const msg = 'Слава 🇺🇦 — 日本語 \u0001\u001f\u007f tab\t "q" \\ <script>';
    const r = await request(`${system.facadeUrl}/facade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ msg }) });
    expect(r.status).to.equal(201);
    const all = (await get<FacadeList>(`${system.facadeUrl}/facade`)).body['logging-service'];
    expect(all.at(-1)).to.equal(msg);
  });
});
