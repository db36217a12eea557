/**
 * A reader of the Prometheus text exposition format (version 0.0.4), for tests that scrape `/metrics`: every sample
 * line becomes a series keyed by its name and sorted labels, and `# TYPE` lines give each family's type. It refuses
 * a line it cannot read, so a malformed exposition fails the test rather than passing unseen.
 */
import { request } from 'undici';

export interface Exposition {
  /** `name{a="1",b="2"}` (labels sorted) → value. */
  series: Map<string, number>;
  /** Family name → counter, gauge, histogram, summary or untyped. */
  types: Map<string, string>;
  /** The value of one series; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function key(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    consumed = LABEL.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`unreadable labels in: ${line}`);
  return labels;
}

/**
 * A sample's value as Prometheus reads it (Go's ParseFloat): the special values in any letter case, so prom-client's
 * `Nan` (an event-loop lag mean before its first sample) is NaN, not an error.
 */
function sampleValue(text: string, line: string): number {
  const special = SPECIAL_VALUES[text.toLowerCase()];
  if (special !== undefined) return special;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`unreadable value in: ${line}`);
  return value;
}

const SPECIAL_VALUES: Record<string, number> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

export function parseExposition(text: string): Exposition {
  const series = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (!line.startsWith('# HELP ')) throw new Error(`unknown comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unreadable sample line: ${line}`);
    series.set(key(m[1]!, parseLabels(m[2] ?? '', line)), sampleValue(m[3]!, line));
  }
  return { series, types, value: (name, labels = {}) => series.get(key(name, labels)) };
}

/** GETs `<base>/metrics` and parses it; throws on a status other than 200 or a content type not Prometheus's. */
export async function scrape(base: string): Promise<Exposition> {
  const res = await request(`${base}/metrics`);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${text}`);
  if (!String(res.headers['content-type']).startsWith('text/plain; version=0.0.4')) {
    throw new Error(`/metrics has content type ${res.headers['content-type']}`);
  }
  return parseExposition(text);
}
