import { expect } from 'chai';
import { v4 } from 'uuid';
import { HttpError } from '../../lib/errors.js';
import { clusterSummary, idTextLine, logRequest, parseRequest, postMessageBody, readLine, recordLine } from '../../lib/contract.js';
import { newMessageId } from '../../lib/ids.js';

describe('message lines between logging and the facade', () => {
  const uuid = newMessageId();
  const texts = ['hello', 'a "quoted" }word{', 'line\nbreak\ttab', 'Привіт 👋', '\u0000\u2028', '"}', '\\', ''];

  it('give back exactly the text, as the JSON the facade passes on, whatever it holds', () => {
    for (const msg of texts) {
      const line = idTextLine(uuid, msg);
      expect(JSON.parse(line)).to.deep.equal({ uuid, msg });
      const read = readLine(line, true)!;
      expect(read.uuid).to.equal(uuid);
      expect(JSON.parse(read.json)).to.equal(msg);
    }
  });

  it('pass whole records on as they came, with their uuid', () => {
    const record = { uuid, msg: 'a "b"', loggedBy: 'http://127.0.0.1:8081/logging', storedAt: '2026-11-30T10:00:00.000Z' };
    const line = recordLine(record);
    expect(JSON.parse(line)).to.deep.equal(record);
    expect(readLine(line, false)).to.deep.equal({ uuid, json: line });
  });

  it('refuse lines of another shape', () => {
    const lines = ['', '{}', '[1]', `{"msg":"x","uuid":"${uuid}"}`, `{"uuid":"${uuid}","msg":5}`, `{"uuid":"${uuid}","msg":"x"`, 'null'];
    for (const line of lines) {
      expect(readLine(line, true), line).to.equal(undefined);
    }
  });

  it('refuse lines that parse but break the schema', () => {
    for (const line of [`{"uuid":"${uuid}","msg":"a","loggedBy":"x"}`, `{"uuid":"not-a-uuid","msg":"a"}`, `{"uuid":"${uuid}"}`]) {
      expect(readLine(line, true), line).to.equal(undefined);
    }
    const record = recordLine({ uuid, msg: 'm', loggedBy: 'l', storedAt: 's' });
    expect(readLine(`${record.slice(0, -1)},"extra":1}`, false)).to.equal(undefined);
    expect(readLine(idTextLine(uuid, 'm'), false)).to.equal(undefined);
  });
});

describe('the requests of the contract', () => {
  const refusal = (schema: Parameters<typeof parseRequest>[0], body: unknown) => {
    try {
      parseRequest(schema, body);
    } catch (err) {
      expect(err).to.be.instanceOf(HttpError);
      return `${(err as HttpError).status} ${(err as HttpError).code}`;
    }
    return 'accepted';
  };

  it("answers each way POST /facade's body can be wrong with its own 400", () => {
    const cases: [unknown, string][] = [
      [{ msg: 'x', other: 1 }, 'accepted'],
      [null, '400 INVALID_BODY'],
      [['msg'], '400 INVALID_BODY'],
      ['msg', '400 INVALID_BODY'],
      [{}, '400 MISSING_MSG'],
      [{ msg: 42 }, '400 INVALID_MSG'],
      [{ msg: ['a', 'b'] }, '400 INVALID_MSG'],
      [{ msg: ' \n' }, '400 EMPTY_MSG'],
    ];
    for (const [body, answer] of cases) expect(refusal(postMessageBody, body), JSON.stringify(body)).to.equal(answer);
    expect(parseRequest(postMessageBody, { msg: 'x', other: 1 })).to.deep.equal({ msg: 'x' });
  });

  it("answers each way POST /logging's body can be wrong with its own 400, and keeps the uuid lower-case", () => {
    const uuid = newMessageId();
    const cases: [unknown, string][] = [
      [{ uuid, msg: 'x' }, 'accepted'],
      [[], '400 INVALID_BODY'],
      [{ msg: 'x' }, '400 INVALID_UUID'],
      [{ uuid: 42, msg: 'x' }, '400 INVALID_UUID'],
      [{ uuid: v4(), msg: 'x' }, '400 INVALID_UUID'],
      [{ uuid }, '400 INVALID_MSG'],
      [{ uuid, msg: '' }, '400 EMPTY_MSG'],
    ];
    for (const [body, answer] of cases) expect(refusal(logRequest, body), JSON.stringify(body)).to.equal(answer);
    expect(parseRequest(logRequest, { uuid: uuid.toUpperCase(), msg: 'x' }).uuid).to.equal(uuid);
  });

  it("reads an older logging's cluster summary, without the count's kind and the backups, as exact and not told", () => {
    const members = [{ address: 'a', uuid: 'u', ownedEntries: 1 }];
    const summary = clusterSummary.parse({ connected: true, mapName: 'm', mapSize: 1, members });
    expect(summary).to.include({ entriesCounted: 'exact', backupCount: null });
    expect(clusterSummary.safeParse({ connected: true, mapName: 'm', mapSize: -1, members: [] }).success).to.equal(false);
  });
});
