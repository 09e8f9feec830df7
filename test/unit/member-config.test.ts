/** The local member configuration keeps the promises the services and the dashboard make about it. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MEMBER_CONFIG } from '../../local/hazelcast.js';
import { loadLoggingConfig } from '../../services/logging/config.js';

describe('charts/lab/files/hazelcast.yaml, as local members run it', () => {
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
    expect(config.map['${lab.map.name}-meta']).to.include({ 'backup-count': 2, 'async-backup-count': 0 });
  });

  it('joins over loopback TCP-IP only, with phone-home off and the health endpoints on', () => {
    expect(config.network.join.multicast.enabled).to.equal(false);
    expect(config.network.join['tcp-ip'].enabled).to.equal(true);
    // One loopback address, the one local/hazelcast.ts gives (127.0.0.1, or a member's own 127.0.0.x).
    expect(config.properties['hazelcast.local.localAddress']).to.equal('${lab.member.host}');
    expect(config.network['public-address']).to.equal('${lab.member.host}:${lab.member.port}');
    expect(config.properties['hazelcast.socket.bind.any']).to.equal(false);
    expect(config.properties['hazelcast.socket.client.bind.any']).to.equal(false);
    expect(config.properties['hazelcast.phone.home.enabled']).to.equal(false);
    expect(config.network['rest-api']['endpoint-groups'].HEALTH_CHECK.enabled).to.equal(true);
  });

  it('refuses writes on a side of a split with fewer than 2 members, on both maps, and merges back within seconds, put-if-absent', () => {
    expect(config['split-brain-protection']['lab-majority']).to.deep.equal({ enabled: true, 'minimum-cluster-size': 2, 'protect-on': 'WRITE' });
    // Logging acknowledges a write only once that many members hold it (lib/write-copies.ts).
    expect(loadLoggingConfig({}).HZ_MIN_COPIES).to.equal(config['split-brain-protection']['lab-majority']['minimum-cluster-size']);
    for (const name of ['${lab.map.name}', '${lab.map.name}-meta']) {
      expect(config.map[name]['split-brain-protection-ref'], name).to.equal('lab-majority');
      expect(config.map[name]['merge-policy']['class-name'], name).to.equal('PutIfAbsentMergePolicy');
    }
    expect(config.properties['hazelcast.merge.first.run.delay.seconds']).to.be.at.most(10);
    expect(config.properties['hazelcast.merge.next.run.delay.seconds']).to.be.at.most(5);
  });
});
