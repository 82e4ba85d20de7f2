/** The printed table: ratios first, absolute numbers as context. */
import { median, range, type Pairing } from './measure.js';

export const kpps = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);

function spread(xs: number[], fmt: (x: number) => string): string {
  const [lo, hi] = range(xs);
  return `${fmt(median(xs))} (${fmt(lo)}–${fmt(hi)})`;
}

export interface Target {
  min: number;
  aim?: number;
}

export interface Row {
  name: string;
  cores: string;
  base: string;
  test: string;
  ratio: number;
  /** Per-pair ratios, when the runs were paired. */
  pairs?: [number, number];
  target?: Target;
}

export function pairRow(name: string, cores: number, p: Pairing, target?: Target): Row {
  const base = p.base.samples.map((s) => s.pps);
  const test = p.test.samples.map((s) => s.pps);
  return { name, cores: String(cores), base: spread(base, kpps), test: spread(test, kpps), ratio: median(test) / median(base), pairs: range(p.ratios), target };
}

export function seriesText(xs: number[], fmt: (x: number) => string): string {
  return spread(xs, fmt);
}

function verdict(r: Row): string {
  if (!r.target) return '';
  const t = `≥ ${r.target.min.toFixed(2)}${r.target.aim ? ` (aim ${r.target.aim.toFixed(2)})` : ''}`;
  const ok = r.ratio >= r.target.min ? (r.target.aim && r.ratio < r.target.aim ? 'ok, below aim' : 'ok') : 'MISSED';
  return `${t.padEnd(20)} ${ok}`;
}

export function printTable(title: string, baseHead: string, testHead: string, rows: Row[]): void {
  const w = [Math.max(...rows.map((r) => r.name.length), 4), 5, 24, 24, 6, 13];
  const line = (cells: string[]): string => cells.map((c, i) => (i < w.length ? c.padEnd(w[i]) : c)).join('  ');
  console.log(`\n${title}`);
  console.log(line(['case', 'cores', baseHead, testHead, 'ratio', 'pairs', 'target']));
  for (const r of rows) {
    const pairs = r.pairs ? `[${r.pairs[0].toFixed(2)}–${r.pairs[1].toFixed(2)}]` : '';
    console.log(line([r.name, r.cores, r.base, r.test, r.ratio.toFixed(3), pairs, verdict(r)]));
  }
}
