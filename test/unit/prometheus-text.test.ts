import { expect } from 'chai';
import { PrometheusTextError, parsePrometheusText, sampleValue, samplesOf } from '../../lib/prometheus-text.js';
import { createMetrics, prom } from '../../lib/metrics.js';

/** As the JMX exporter 0.20.0 writes it (a comma before `}`), the heap samples far from the first line. */
const JMX = [
  '# HELP hazelcast_map_owned_entries Entries the member owns.',
  '# TYPE hazelcast_map_owned_entries gauge',
  'hazelcast_map_owned_entries{map="messages",} 10.0',
  'hazelcast_map_owned_entries{map="probe",} 3.0',
  '# HELP hazelcast_memory_max_heap_bytes The most heap the member may use (-Xmx), in bytes.',
  '# TYPE hazelcast_memory_max_heap_bytes gauge',
  'hazelcast_memory_max_heap_bytes 1.34217728E8',
  '# a comment that is neither HELP nor TYPE',
  '',
  'hazelcast_memory_used_heap_bytes 3.0244856E7',
  'hazelcast_gc_collections_total{kind="minor",} 4.0',
  'hazelcast_gc_collections_total{kind="major",} 0.0',
  '',
].join('\n');

describe('Prometheus text exposition', () => {
  it('reads every sample wherever it stands, with its labels, past HELP, TYPE, comments and blank lines', () => {
    const samples = parsePrometheusText(JMX);
    expect(samples.map((s) => s.name)).to.deep.equal([
      'hazelcast_map_owned_entries', 'hazelcast_map_owned_entries', 'hazelcast_memory_max_heap_bytes',
      'hazelcast_memory_used_heap_bytes', 'hazelcast_gc_collections_total', 'hazelcast_gc_collections_total',
    ]);
    expect(sampleValue(samples, 'hazelcast_memory_used_heap_bytes')).to.equal(30_244_856);
    expect(sampleValue(samples, 'hazelcast_memory_max_heap_bytes')).to.equal(134_217_728);
    expect(sampleValue(samples, 'hazelcast_map_owned_entries', { map: 'probe' })).to.equal(3);
    expect(samplesOf(samples, 'hazelcast_gc_collections_total').map((s) => ({ ...s.labels }))).to.deep.equal([{ kind: 'minor' }, { kind: 'major' }]);
  });

  it('reads what prom-client writes, labels and all', async () => {
    const metrics = createMetrics('logging');
    const counter = new prom.Counter({ name: 'x_total', help: 'h', labelNames: ['outcome'], registers: [metrics.metricsRegistry] });
    counter.inc({ outcome: 'ok' }, 2);
    counter.inc({ outcome: 'a "quoted"\\ \nvalue' });
    const samples = parsePrometheusText(await metrics.metricsRegistry.metrics());
    expect(sampleValue(samples, 'x_total', { outcome: 'ok' })).to.equal(2);
    expect(sampleValue(samples, 'x_total', { outcome: 'a "quoted"\\ \nvalue', service: 'logging' })).to.equal(1);
  });

  it('reads escapes, timestamps, special values, CRLF, blanks around labels and a sample after its metric\'s other lines', () => {
    const samples = parsePrometheusText([
      'a{path="C:\\\\x\\"y\\"\\nz"} 1',
      'b{} 7 1700000000000',
      'c +Inf',
      'd NaN\r',
      'e -Inf',
      '  f { x = "1" , y="2" } 2.5e-3\t',
      'a{path="other"} -1',
    ].join('\n'));
    expect(samples[0]).to.deep.include({ name: 'a', value: 1 });
    expect({ ...samples[0]!.labels }).to.deep.equal({ path: 'C:\\x"y"\nz' });
    expect(samples[1]).to.deep.include({ name: 'b', value: 7, timestampMs: 1_700_000_000_000 });
    expect(samples[2]!.value).to.equal(Infinity);
    expect(Number.isNaN(samples[3]!.value)).to.equal(true);
    expect(samples[4]!.value).to.equal(-Infinity);
    expect(samples[5]).to.deep.include({ name: 'f', value: 0.0025 });
    expect({ ...samples[5]!.labels }).to.deep.equal({ x: '1', y: '2' });
    expect(samplesOf(samples, 'a').map((s) => s.value)).to.deep.equal([1, -1]);
  });

  it('gives no value for a missing sample, a look-alike name, an ambiguous choice or one that is not finite', () => {
    const samples = parsePrometheusText(JMX + 'hazelcast_memory_used_heap_bytes_total 5\nnot_finite NaN\n');
    expect(sampleValue(samples, 'hazelcast_memory_used')).to.equal(undefined);
    expect(sampleValue(samples, 'nope')).to.equal(undefined);
    expect(sampleValue(samples, 'hazelcast_map_owned_entries'), 'two series, no label to choose').to.equal(undefined);
    expect(sampleValue(samples, 'hazelcast_map_owned_entries', { map: 'other' })).to.equal(undefined);
    expect(sampleValue(samples, 'not_finite')).to.equal(undefined);
    expect(parsePrometheusText('')).to.deep.equal([]);
  });

  it('refuses a line that is not a sample, naming it', () => {
    for (const [line, why] of [
      ['this is not { prometheus', /line 2: the value is not a number: "this is not/],
      ['name 1 2 3', /something follows the sample/],
      ['name', /a value must follow/],
      ['name one', /not a number/],
      ['name 0x10', /not a number/],
      ['name{a="1" b="2"} 1', /separated by commas/],
      ['name{a="1} 1', /not closed/],
      ['name{a=1} 1', /double quotes/],
      ['name{a="\\t"} 1', /unknown escape/],
      ['name{a="1",a="2"} 1', /label a is repeated/],
      ['name 1 soon', /timestamp/],
      ['9name 1', /metric name/],
    ] as const) {
      expect(() => parsePrometheusText(`ok 1\n${line}\n`), line).to.throw(PrometheusTextError, why);
    }
  });

  it('takes a label named __proto__ as a label', () => {
    const [s] = parsePrometheusText('m{__proto__="x"} 1');
    expect(s!.labels.__proto__).to.equal('x');
    expect(sampleValue([s!], 'm', Object.fromEntries([['__proto__', 'x']]))).to.equal(1);
    expect(sampleValue([s!], 'm', Object.fromEntries([['__proto__', 'y']]))).to.equal(undefined);
  });
});
