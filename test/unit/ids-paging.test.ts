import { expect } from 'chai';
import { isUuid, isUuidV7, newMessageId } from '../../lib/ids.js';
import { parsePage } from '../../lib/paging.js';
import { HttpError } from '../../lib/errors.js';
import { pageQuery } from '../../drills/facade-api.js';

/**
 * The order the services rely on: keys are lower-case UUIDv7 strings, whose string order is
 * creation order (a big-endian millisecond timestamp first, a per-process monotonic counter after it).
 */
const compareIds = (a: string, b: string): number => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

describe('message ids', () => {
  it('are UUIDv7', () => {
    const id = newMessageId();
    expect(isUuid(id)).to.equal(true);
    expect(isUuidV7(id)).to.equal(true);
  });

  it('sort in creation order, even many within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newMessageId());
    expect([...ids].sort(compareIds)).to.deep.equal(ids);
  });

  it('compare case-insensitively', () => {
    const id = newMessageId();
    expect(compareIds(id, id.toUpperCase())).to.equal(0);
  });

  it('reject non-UUIDs', () => {
    for (const bad of ['', 'abc', '01a221fc-e6c6-70e1-989e-14e7c67ef0b', 42, null, undefined, {}]) expect(isUuid(bad)).to.equal(false);
  });
});

describe('paging parameters', () => {
  it('accepts none', () => expect(parsePage({})).to.deep.equal({}));

  it('reads limit and after', () => {
    const after = newMessageId();
    expect(parsePage({ limit: '10', after: after.toUpperCase() })).to.deep.equal({ limit: 10, after });
  });

  for (const limit of ['0', '-1', '1.5', 'ten', '', '100001', '99999999999', ' 5']) {
    it(`rejects limit=${JSON.stringify(limit)} with 400`, () => {
      expect(() => parsePage({ limit })).to.throw(HttpError).with.property('status', 400);
    });
  }

  it('rejects a repeated limit and a non-UUID after', () => {
    expect(() => parsePage({ limit: ['1', '2'] })).to.throw(HttpError);
    expect(() => parsePage({ after: '../etc' })).to.throw(HttpError).with.property('code', 'INVALID_AFTER');
  });

  it('round-trips into a query string', () => {
    expect(pageQuery({})).to.equal('');
    expect(pageQuery({ limit: 3 })).to.equal('?limit=3');
  });
});
