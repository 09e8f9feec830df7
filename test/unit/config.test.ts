import { expect } from 'chai';
import { ConfigError } from '../../lib/config.js';
import { loadFacadeConfig } from '../../services/facade/config.js';
import { loadLoggingConfig } from '../../services/logging/config.js';

describe('config', () => {
  it('gives every setting its documented default', () => {
    const c = loadLoggingConfig({});
    expect(c.PORT).to.equal(8081);
    expect(c.HOST).to.equal('127.0.0.1');
    expect(c.HZ_MEMBERS).to.deep.equal(['127.0.0.1:5701', '127.0.0.1:5702', '127.0.0.1:5703']);
    expect(c.HZ_MEMBERS_PROBED, 'unset: logging probes HZ_MEMBERS').to.equal(undefined);
    expect(c.HZ_MAP_NAME).to.equal('messages');
    expect(c.BODY_LIMIT_BYTES).to.equal(65536);
  });

  it('parses numbers, lists and URLs from strings', () => {
    const c = loadFacadeConfig({ PORT: '9000', CONFIG_SERVER_URL: 'http://cfg:8888/', UPSTREAM_TIMEOUT_MS: '750' });
    expect(c.PORT).to.equal(9000);
    expect(c.CONFIG_SERVER_URL).to.equal('http://cfg:8888');
    expect(c.UPSTREAM_TIMEOUT_MS).to.equal(750);
  });

  it('treats an empty variable as unset', () => {
    expect(loadFacadeConfig({ PORT: '' }).PORT).to.equal(8080);
  });

  it('reports every problem at once', () => {
    try {
      loadFacadeConfig({ PORT: 'eighty', CONFIG_SERVER_URL: 'ftp://x', LOG_LEVEL: 'loud' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const { problems } = err as ConfigError;
      expect(problems).to.have.length(3);
      expect(problems.join()).to.include('PORT').and.include('CONFIG_SERVER_URL').and.include('LOG_LEVEL');
    }
  });

  it('rejects member addresses without a port', () => {
    expect(() => loadLoggingConfig({ HZ_MEMBERS: '127.0.0.1' })).to.throw(ConfigError, /HZ_MEMBERS/);
    expect(() => loadLoggingConfig({ HZ_MEMBERS_PROBED: 'lab-hazelcast-headless' })).to.throw(ConfigError, /HZ_MEMBERS_PROBED/);
  });

  it('takes the probed members as a list, empty meaning HZ_MEMBERS', () => {
    expect(loadLoggingConfig({ HZ_MEMBERS_PROBED: 'lab-hazelcast-headless:5701, 10.0.0.9:5701' }).HZ_MEMBERS_PROBED)
      .to.deep.equal(['lab-hazelcast-headless:5701', '10.0.0.9:5701']);
    expect(loadLoggingConfig({ HZ_MEMBERS_PROBED: '' }).HZ_MEMBERS_PROBED).to.equal(undefined);
  });

  it('ignores unrelated environment variables', () => {
    expect(() => loadLoggingConfig({ PATH: '/usr/bin', HOME: '/root' })).not.to.throw();
  });
});
