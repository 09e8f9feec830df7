import { expect } from 'chai';
import { HttpError, errorBody, toHttpError } from '../../lib/errors.js';
import { StoreError, type StoreErrorCode } from '../../lib/store-errors.js';

describe('error mapping', () => {
  it('keeps an HttpError as it is', () => {
    const e = new HttpError(409, 'UUID_CONFLICT', 'taken');
    expect(toHttpError(e)).to.equal(e);
    expect(errorBody(e)).to.deep.equal({ error: { code: 'UUID_CONFLICT', message: 'taken' } });
  });

  it("maps the store's errors in one place: STORE_FULL to 507, every other to a 503 with Retry-After, each with the store's own message shown", () => {
    const cases: [StoreErrorCode, number][] = [['STORE_FULL', 507], ['STORE_MINORITY', 503], ['STORE_UNCONFIRMED', 503], ['STORE_UNAVAILABLE', 503]];
    for (const [code, status] of cases) {
      const cause = new StoreError(code, `why ${code}`);
      const e = toHttpError(cause);
      expect(e, code).to.include({ status, code, expose: true, cause });
      expect(errorBody(e), code).to.deep.equal({ error: { code, message: `why ${code}` } });
      if (status === 503) expect(e.headers, code).to.deep.equal({ 'Retry-After': '1' });
    }
  });

  it('turns a body-parser JSON failure into 400 INVALID_BODY without the parser text', () => {
    const parseError = Object.assign(new Error('Unexpected token } in JSON at position 7'), { status: 400, expose: true, type: 'entity.parse.failed' });
    const e = toHttpError(parseError);
    expect(e.status).to.equal(400);
    expect(e.code).to.equal('INVALID_BODY');
    expect(errorBody(e).error.message).not.to.include('position');
  });

  it('keeps a library 413 as PAYLOAD_TOO_LARGE', () => {
    const e = toHttpError(Object.assign(new Error('request entity too large'), { status: 413, expose: true }));
    expect([e.status, e.code]).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('hides everything about an unknown error behind a 500', () => {
    const e = toHttpError(new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app.js:12"));
    expect(e.status).to.equal(500);
    expect(errorBody(e)).to.deep.equal({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('treats a thrown non-error as internal', () => {
    expect(toHttpError('boom').status).to.equal(500);
    expect(toHttpError(undefined).status).to.equal(500);
  });
});
