import { expect } from 'chai';
import { idTextLine, readLine, recordLine } from '../../lib/message-lines.js';
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
    for (const line of ['', '{}', '[1]', `{"msg":"x","uuid":"${uuid}"}`, `{"uuid":"${uuid}","msg":5}`, `{"uuid":"${uuid}","msg":"x"`, 'null']) {
      expect(readLine(line, true), line).to.equal(undefined);
    }
  });
});
