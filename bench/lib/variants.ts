/**
 * Variants of the engine's live ruleset (`nft list ruleset` text) for
 * bench/ruleset-variants.ts: each removes or reshapes one candidate cost, so
 * that its price per packet can be measured against the same baseline.
 */
import type { BenchNet } from './topology.js';

export interface Variant {
  name: string;
  /** The ruleset text (without `flush ruleset`) from the live `nft list ruleset` of the engine. */
  make(base: string, net: BenchNet): string;
}

type Edit = (text: string) => string;

/** Per-element counters off: the maps' `counter` flag and each element's counter. */
const noCounters: Edit = (t) => t.replace(/^\t\tcounter\n/gm, '').replace(/ counter packets \d+ bytes \d+/g, '');

/** Action chains without the `meta l4proto …` guard. */
const noL4: Edit = (t) => t.replace(/meta l4proto (\{ tcp, udp \}|tcp|udp) (?=ether|ip|limit|@)/g, '');

/** Action chains without the source-MAC rewrite. */
const noSrcMac: Edit = (t) => t.replace(/ether saddr set [0-9a-f:]{17} /g, '');

/** Row maps hold verdicts (goto the action chain) instead of a mark looked up again in @act. */
const direct: Edit = (t) => {
  const act = new Map<string, string>();
  const m = /map act \{[^}]*elements = \{([^}]*)\}/.exec(t);
  for (const e of m![1].matchAll(/(0x[0-9a-f]{8}) : (goto \w+|drop)/g)) act.set(e[1], e[2]);
  let out = t.replace(/(type [^\n]*) : mark\n/g, '$1 : verdict\n');
  out = out.replace(/: (0x[0-9a-f]{8})(?=[,\s])/g, (all, id: string) => (act.has(id) ? `: ${act.get(id)}` : all));
  out = out.replace(/meta mark set (.*?) map @(\w+) meta mark vmap @act/g, '$1 vmap @$2');
  return out;
};

/** The hook chains do the lookups themselves (no `meta protocol … goto p4`), IPv4 only. */
const inlineHook: Edit = (t) => {
  const body = (name: string): string[] => {
    const m = new RegExp(`chain ${name} \\{\\n([^}]*)\\}`).exec(t);
    return m ? m[1].split('\n').map((l) => l.trim()).filter(Boolean) : [];
  };
  return t.replace(/(chain in_\w+ \{\n\t\ttype [^\n]*\n)\t\tmeta protocol ip goto (\w+)\n/g, (_all, head: string, target: string) => {
    return head + body(target).map((r) => `\t\t${r}\n`).join('');
  });
};

/** The MAC dispatch off on device ports (s4 → p4): MAC-keyed rows then miss, so only for paths that do not need them. */
const noMacDispatch: Edit = (t) => t.replace(/goto s4/g, 'goto p4');

/** One 12-byte write of both MACs (destination, then source) instead of two 6-byte writes. */
const macWrite12: Edit = (t) =>
  t.replace(/ether saddr set ([0-9a-f:]{17}) ether daddr set ([0-9a-f:]{17})/g, (_a, s: string, d: string) => `@ll,0,96 set 0x${d.replace(/:/g, '')}${s.replace(/:/g, '')}`);

/** The act map with a size: a fixed hash (hash_fast for its 4-byte key) instead of rhashtable. */
const actSize: Edit = (t) => t.replace(/(map act \{\n\t\ttype mark : verdict\n)/, '$1\t\tsize 4096\n');

const chainEdits = (...edits: Edit[]): Edit => (t) => edits.reduce((x, e) => e(x), t);

export const VARIANTS: Variant[] = [
  { name: 'base', make: (b) => b },
  { name: 'nocnt', make: noCounters },
  { name: 'nol4', make: noL4 },
  { name: 'nosmac', make: noSrcMac },
  { name: 'direct', make: direct },
  { name: 'inline', make: inlineHook },
  { name: 'nomacdisp', make: noMacDispatch },
  { name: 'all', make: chainEdits(noCounters, noL4, noSrcMac, direct, inlineHook) },
  { name: 'all-smac', make: chainEdits(noCounters, noL4, direct, inlineHook) },
  { name: 'mac12', make: macWrite12 },
  { name: 'actsize', make: actSize },
  { name: 'cand1', make: chainEdits(inlineHook, macWrite12, noL4, actSize) },
  { name: 'cand1-cnt', make: chainEdits(inlineHook, macWrite12, noL4, actSize, noCounters) },
  { name: 'cand1-dir', make: chainEdits(inlineHook, macWrite12, noL4, direct) },
  { name: 'base2', make: (b) => b },
];
