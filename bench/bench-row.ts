/** One line of `npm run bench`'s table: what was measured, the figure, and what to compare it with. */
export interface BenchRow {
  name: string;
  value: string;
  /** The reference the figure is read against (a bare route, a platform limit, the seed's procedure…). */
  reference?: string;
}

/** A benchmark: runs against local servers only, bounded in time, and returns its rows. */
export type Bench = () => Promise<BenchRow[]>;

/** The p-th percentile (0–100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
