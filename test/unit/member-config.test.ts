/** The local member configuration keeps the promises the services and the dashboard make about it. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MEMBER_CONFIG } from '../../local/hazelcast.js';
import { loadLoggingConfig } from '../../services/logging/config.js';

describe('hazelcast/hazelcast.yaml', () => {
  const config = parse(readFileSync(MEMBER_CONFIG, 'utf8')).hazelcast;

  it("declares the backup count logging reports by default (2: every entry on all three members)", () => {
    const map = config.map['${lab.map.name}'];
    expect(map['backup-count']).to.equal(loadLoggingConfig({}).HZ_BACKUP_COUNT).and.to.equal(2);
    expect(map['async-backup-count']).to.equal(0);
  });

  it('indexes the message keys in order, bounds every query answer, and backs the meta map up as much as the messages', () => {
    expect(config.map['${lab.map.name}'].indexes).to.deep.equal([{ type: 'SORTED', attributes: ['__key'] }]);
    expect(config.map['${lab.map.name}']['cache-deserialized-values']).to.equal('NEVER');
    expect(config.map['${lab.map.name}']['metadata-policy']).to.equal('OFF');
    expect(config.properties['hazelcast.query.result.size.limit']).to.equal(100_000);
    expect(config.map['${lab.map.name}-meta']).to.deep.equal({ 'backup-count': 2, 'async-backup-count': 0 });
  });

  it('joins over loopback TCP-IP only, with phone-home off and the health endpoints on', () => {
    expect(config.network.join.multicast.enabled).to.equal(false);
    expect(config.network.join['tcp-ip'].enabled).to.equal(true);
    expect(config.network.interfaces.interfaces).to.deep.equal(['127.0.0.1']);
    expect(config.properties['hazelcast.socket.bind.any']).to.equal(false);
    expect(config.properties['hazelcast.phone.home.enabled']).to.equal(false);
    expect(config.network['rest-api']['endpoint-groups'].HEALTH_CHECK.enabled).to.equal(true);
  });
});
