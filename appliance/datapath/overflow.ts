/**
 * Where rows of direct maps live between full applies. The renderer puts
 * every row of a direct shape into its direct map (key → `goto a_<hash>`):
 * one lookup per pass. A transaction that adds a goto element makes the
 * kernel re-validate every jump and goto element of the table (~20 ms per
 * 100k, so 40–110 ms for a one-service change at 100k services), while a
 * delete does not. So a diff never adds to a direct map: rows added or
 * changed since the last full apply go to the map's overflow (key → action
 * id, looked up in `act` right after the direct map), and the next full apply
 * moves them back (compaction), counts included. Row counters stay where they
 * are: a row's element is looked up in the direct map, then in its overflow
 * (render-model locateElement).
 */
import { isDirect, overflowName, type RenderedRuleset } from '../compile/render-model.js';
import type { ElementCounters } from '../compile/render-print.js';

/** The mark of the action id the renderer gives unresolved rows (their verdict is `drop`). */
const DROP_ID = '0x00000001';

/** verdict → action id, from the act map (each action chain has one id, `drop` one). */
function actionIds(r: RenderedRuleset): Map<string, string> {
  const ids = new Map<string, string>();
  const act = r.sets.get('act');
  for (const [id, verdict] of act?.elements ?? []) ids.set(verdict, id);
  return ids;
}

/**
 * Rows of `next`'s direct maps that `prev` does not hold with the same verdict
 * in the same direct map go to the overflow maps (as action ids). Changes
 * `next` in place; running it again with the same `prev` changes nothing.
 * Returns the number of elements in overflow maps afterwards.
 */
export function placeOverflow(prev: RenderedRuleset, next: RenderedRuleset): number {
  // From the renderer's layout (all rows direct), whatever `next` went through before (a check against another running ruleset).
  compactOverflow(next);
  let ids: Map<string, string> | undefined;
  let inOverflow = 0;
  for (const s of next.sets.values()) {
    if (!isDirect(next, s.name)) continue;
    const o = next.sets.get(overflowName(s.name))!;
    const before = prev.sets.get(s.name);
    const had = before && before.dataType === 'verdict' ? before.elements : undefined;
    const move: string[] = [];
    s.elements.forEach((v, k) => {
      if (had?.get(k) !== v) move.push(k);
    });
    for (const k of move) {
      const verdict = s.elements.get(k)!;
      ids ??= actionIds(next);
      let id = ids.get(verdict);
      if (id === undefined && verdict === 'drop') {
        next.sets.get('act')?.elements.set(DROP_ID, 'drop');
        ids.set('drop', (id = DROP_ID));
      }
      if (id === undefined) throw new Error(`overflow: no action id for ${verdict} in act`);
      s.elements.delete(k);
      o.elements.set(k, id);
    }
    inOverflow += o.elements.size;
  }
  return inOverflow;
}

/** Every overflow row back into its direct map (what a full apply loads). Changes `r` in place; returns the rows moved. */
export function compactOverflow(r: RenderedRuleset): number {
  let moved = 0;
  let act: Map<string, string> | undefined;
  for (const s of r.sets.values()) {
    if (!isDirect(r, s.name)) continue;
    const o = r.sets.get(overflowName(s.name))!;
    if (!o.elements.size) continue;
    act ??= r.sets.get('act')!.elements;
    for (const [k, id] of o.elements) {
      const verdict = act.get(id);
      if (verdict === undefined) throw new Error(`overflow: action id ${id} is not in act`);
      s.elements.set(k, verdict);
      moved++;
    }
    o.elements.clear();
  }
  return moved;
}

/**
 * Counters read from a table whose rows may sit in overflow maps, for loading
 * `next` (compacted): an overflow element's count goes to the same key of the
 * direct map (added to what that holds). Changes `counters` in place.
 */
export function foldOverflowCounters(counters: ElementCounters, next: RenderedRuleset): ElementCounters {
  for (const s of next.sets.values()) {
    if (!isDirect(next, s.name)) continue;
    const from = counters.get(overflowName(s.name));
    if (!from?.size) continue;
    let to = counters.get(s.name);
    if (!to) counters.set(s.name, (to = new Map()));
    for (const [k, v] of from) {
      if (!s.elements.has(k)) continue;
      const had = to.get(k);
      to.set(k, had ? { packets: had.packets + v.packets, bytes: had.bytes + v.bytes } : v);
      from.delete(k);
    }
  }
  return counters;
}

/** Rows in the overflow maps of `r`. */
export function overflowRows(r: RenderedRuleset): number {
  let n = 0;
  for (const s of r.sets.values()) if (isDirect(r, s.name)) n += r.sets.get(overflowName(s.name))!.elements.size;
  return n;
}

/** `r` with its overflow rows in their direct maps, as a new ruleset (`r` itself and the sets without overflow are shared, not copied). */
export function compactedCopy(r: RenderedRuleset): RenderedRuleset {
  const sets = new Map(r.sets);
  for (const s of r.sets.values()) {
    if (!isDirect(r, s.name)) continue;
    const o = r.sets.get(overflowName(s.name))!;
    if (!o.elements.size) continue;
    sets.set(s.name, { ...s, elements: new Map(s.elements) });
    sets.set(o.name, { ...o, elements: new Map(o.elements) });
  }
  const copy = { ...r, sets };
  compactOverflow(copy);
  return copy;
}
