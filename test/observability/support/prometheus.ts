import { parser } from '@prometheus-io/lezer-promql';

/**
 * Reading what Prometheus would read: the text exposition format of /metrics, and the metric names a PromQL
 * expression uses — so tests can hold the dashboard and the alerts to the metrics the code exports.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of a scrape (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[key] = value.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** True when at least one sample named `name` with those labels exists (even at 0). */
export function exists(samples: Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** Grafana's interval variables stand where PromQL expects a duration. */
const GRAFANA_DURATIONS = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

/**
 * Parses an expression with Prometheus's own PromQL grammar (@prometheus-io/lezer-promql): its syntax
 * errors, and the metric names its selectors use — exactly as they must appear in /metrics (a histogram's
 * series are named with _bucket, _sum or _count).
 */
export function readPromQL(expr: string): { metrics: string[]; errors: string[] } {
  const source = expr.replace(GRAFANA_DURATIONS, '5m');
  const metrics = new Set<string>();
  const errors: string[] = [];
  parser.parse(source).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: …${source.slice(Math.max(0, node.from - 20), node.from + 20)}…`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.add(source.slice(node.from, node.to));
      if (node.name === 'UnquotedLabelMatcher' && /^__name__\s*=\s*"/.test(source.slice(node.from, node.to))) {
        metrics.add(source.slice(node.from, node.to).replace(/^__name__\s*=\s*"(.*)"$/, '$1'));
      }
    },
  });
  return { metrics: [...metrics], errors };
}
