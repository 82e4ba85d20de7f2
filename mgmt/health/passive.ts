/**
 * Passive failure detection from the data plane's per-row counters (pure).
 * A row that delivers to device D at step k of a chain counts packets sent
 * TO D; the rows of the same service port whose packets come FROM step k
 * count D's answers. When packets toward D keep growing (a client's SYN and
 * its retransmissions) while nothing comes back from D, D is suspect and
 * gets an immediate active check. Copies (taps) are not expected to answer.
 */
import type { CounterSnapshot } from '../../appliance/datapath/datapath.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';

export interface FlowTotals {
  /** device → packets delivered to it (as a chain step, not as a copy). */
  to: Map<string, number>;
  /** device → packets that came back from it. */
  from: Map<string, number>;
}

export function flowTotals(ruleset: RenderedRuleset, counters: CounterSnapshot): FlowTotals {
  const to = new Map<string, number>();
  const from = new Map<string, number>();
  const add = (m: Map<string, number>, d: string, n: number) => m.set(d, (m.get(d) ?? 0) + n);
  for (const row of ruleset.rows.values()) {
    const n = Number(counters.rows.get(row.id)?.packets ?? 0);
    // Rows received from a chain step carry the origin "step N (device)" (chain-rows.ts).
    const origin = /^step \d+ \((.+)\)$/.exec(row.origin)?.[1];
    if (origin !== undefined) add(from, origin, n);
    if (row.direction !== 'forward') continue;
    for (const d of row.devices) if (d !== origin) add(to, d, n);
  }
  return { to, from };
}

/**
 * Devices sent at least `minPackets` packets since they last answered anything.
 * `unanswered` carries the count from one reading to the next (a client's SYN
 * retransmissions are seconds apart); a reading in which the device answered resets it.
 */
export function suspects(prev: FlowTotals, cur: FlowTotals, unanswered: Map<string, number>, minPackets = 3): string[] {
  const out: string[] = [];
  for (const [d, n] of cur.to) {
    const sent = Math.max(0, n - (prev.to.get(d) ?? n));
    const answered = (cur.from.get(d) ?? 0) - (prev.from.get(d) ?? 0);
    const total = answered > 0 ? 0 : (unanswered.get(d) ?? 0) + sent;
    unanswered.set(d, total);
    if (total >= minPackets) {
      out.push(d);
      unanswered.set(d, 0);
    }
  }
  return out;
}
