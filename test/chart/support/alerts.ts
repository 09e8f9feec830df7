/** Metric names in the chart's alerts and in the members' exporter rules, for checking one against the other. */
import { parse } from 'yaml';

/** PromQL words that are not metric names: functions, aggregations, operators and modifiers. */
const PROMQL_WORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'rate', 'irate', 'increase', 'absent', 'by', 'without', 'on', 'ignoring',
  'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'histogram_quantile',
]);

/**
 * The metric names an expression reads, sorted and distinct: identifiers outside label matchers
 * (`{...}`), ranges (`[5m]`) and strings that are not PromQL words.
 */
export function alertMetricNames(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  const names = [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
  return [...new Set(names)].sort();
}

/** The names the exporter's rules give (those without `$` references: every rule here spells its name). */
export function exporterMetricNames(rulesYaml: string): string[] {
  const rules: { name?: string }[] = parse(rulesYaml).rules ?? [];
  return rules.map((r) => r.name).filter((n): n is string => typeof n === 'string' && !n.includes('$'));
}
