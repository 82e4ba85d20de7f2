/** The printed tables: ratios first, absolute numbers as context. */
import { median, range, type Pairing } from './measure.js';

export const kpps = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);

export function spread(xs: number[], fmt: (x: number) => string): string {
  const [lo, hi] = range(xs);
  return `${fmt(median(xs))} (${fmt(lo)}–${fmt(hi)})`;
}

/** A ratio passes at min or above (and at max or below, for "within x%"); aim is the stretch goal. */
export interface Target {
  min: number;
  max?: number;
  aim?: number;
}

export interface Row {
  name: string;
  cores: string;
  base: string;
  test: string;
  /** Engine ÷ baseline: the median of the per-pair ratios (CPU-share normalised rates, measure.ts). */
  ratio: number;
  /** The ratio of the medians, and of the best runs (noise on a shared VM only ever slows a run down). */
  ofMedians?: number;
  best?: number;
  /** The lowest CPU share a sender got in any run of the row. */
  share?: number;
  /** Per-pair ratios, when the runs were paired. */
  pairs?: [number, number];
  /** CPU time per packet the engine adds over the baseline, in µs (cores ÷ pps, medians). */
  extraUs?: number;
  target?: Target;
}

export function pairRow(name: string, cores: number, p: Pairing, target?: Target): Row {
  const pps = (s: Pairing['base']): number[] => s.samples.map((x) => x.pps);
  const norm = (s: Pairing['base']): number => median(s.samples.map((x) => x.norm));
  return {
    name,
    cores: String(cores),
    base: spread(pps(p.base), kpps),
    test: spread(pps(p.test), kpps),
    ratio: median(p.ratios),
    ofMedians: norm(p.test) / norm(p.base),
    best: Math.max(...p.test.samples.map((x) => x.norm)) / Math.max(...p.base.samples.map((x) => x.norm)),
    share: Math.min(...[...p.base.samples, ...p.test.samples].map((x) => x.cpuShare)),
    pairs: range(p.ratios),
    extraUs: cores * 1e6 * (1 / norm(p.test) - 1 / norm(p.base)),
    target,
  };
}

function verdict(r: Row): string {
  const t = r.target;
  if (!t) return '';
  const text = t.max !== undefined ? `${t.min.toFixed(2)}–${t.max.toFixed(2)}` : `≥ ${t.min.toFixed(2)}${t.aim ? ` (aim ${t.aim.toFixed(2)})` : ''}`;
  const pass = r.ratio >= t.min && (t.max === undefined || r.ratio <= t.max);
  return `${text.padEnd(18)} ${pass ? (t.aim && r.ratio < t.aim ? 'ok, below aim' : 'ok') : 'MISSED'}`;
}

export function printTable(title: string, baseHead: string, testHead: string, rows: Row[]): void {
  const w = [Math.max(...rows.map((r) => r.name.length), 4), 5, 22, 22, 6, 7, 6, 12, 8, 4];
  const line = (cells: string[]): string => cells.map((c, i) => (i < w.length ? c.padEnd(w[i]) : c)).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(['case', 'cores', baseHead, testHead, 'ratio', 'medians', 'best', 'pairs', '+µs/pkt', 'cpu', 'target']));
  for (const r of rows) {
    const pairs = r.pairs ? `[${r.pairs[0].toFixed(2)}–${r.pairs[1].toFixed(2)}]` : '';
    const us = r.extraUs === undefined ? '' : `${r.extraUs >= 0 ? '+' : ''}${r.extraUs.toFixed(2)}`;
    const share = r.share === undefined ? '' : r.share.toFixed(2);
    const f = (x?: number): string => x?.toFixed(3) ?? '';
    console.log(line([r.name, r.cores, r.base, r.test, f(r.ratio), f(r.ofMedians), f(r.best), pairs, us, share, verdict(r)]));
  }
}
