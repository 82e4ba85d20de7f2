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
const noL4: Edit = (t) => t.replace(/meta l4proto (\{ tcp, udp \}|@l4_tcp_udp|tcp|udp) (?=ether|ip|limit|@)/g, '');

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

/** Row maps split per receiving interface, looked up from that interface's hook chain without `iifname` in the key. */
const perInterface: Edit = (t) => {
  const maps = new Map<string, { type: string; extra: string; elements: string[] }>();
  for (const m of t.matchAll(/\tmap (\w+) \{\n\t\ttype ifname \. ([^\n]+)\n((?:\t\t(?:flags|counter|size)[^\n]*\n)*)\t\telements = \{ ([\s\S]*?) \}\n\t\}/g)) {
    maps.set(m[1], { type: m[2], extra: m[3], elements: m[4].split(/,\s*(?=")/).map((e) => e.trim()) });
  }
  const added: string[] = [];
  const out = t.replace(/(chain in_(\w+) \{\n)([\s\S]*?)(\n\t\})/g, (_a, head: string, dev: string, body: string, tail: string) => {
    const nb = body.replace(/meta mark set iifname \. (.*?) map @(\w+) meta mark vmap @act/g, (all, rest: string, name: string) => {
      const m = maps.get(name);
      if (!m || rest.startsWith('ether')) return all;
      const els = m.elements.filter((e) => e.startsWith(`"${dev}" . `)).map((e) => e.slice(dev.length + 5));
      if (!els.length) return `meta mark set ${rest} map @${name}_${dev} meta mark vmap @act`;
      added.push(`\tmap ${name}_${dev} {\n\t\ttype ${m.type}\n${m.extra}\t\telements = { ${els.join(', ')} }\n\t}\n`);
      return `meta mark set ${rest} map @${name}_${dev} meta mark vmap @act`;
    });
    return head + nb + tail;
  });
  // Maps a hook chain names but which have no element for it are declared empty.
  const declared = new Set(added.map((a) => /map (\w+)/.exec(a)![1]));
  for (const m of out.matchAll(/map @(\w+_e\d)\b/g)) {
    if (declared.has(m[1])) continue;
    const base = maps.get(m[1].replace(/_e\d$/, ''))!;
    added.push(`\tmap ${m[1]} {\n\t\ttype ${base.type}\n${base.extra}\t}\n`);
    declared.add(m[1]);
  }
  return out.replace(/table netdev vcn \{\n/, (h) => h + added.join(''));
};

const chainEdits = (...edits: Edit[]): Edit => (t) => edits.reduce((x, e) => e(x), t);

/**
 * The calibration's hand-written PE ruleset (../shared/bench-notes/RESULTS.md, `gen-pe-ruleset.sh` MODE=vmap)
 * with the live ruleset's rows and sends: one base chain on every port, `iifname . ip daddr . th dport vmap`
 * (and the sport one for replies), action chains of one statement (MAC write, fwd), no counters, no protocol
 * guard. Measures the reference shape against the same hard-wired baseline in the same run.
 */
const reference: Edit = (t) => {
  const fwd: string[] = [];
  const rev: string[] = [];
  for (const m of t.matchAll(/\tmap v4_(ddp|ssp)_if_(\w+) \{\n\t\ttype [^\n]*\n(?:\t\tcounter\n)?\t\telements = \{ ([\s\S]*?) \}\n\t\}/g)) {
    for (const e of m[3].split(/,\s*/)) {
      const x = /^(\S+) \. (\d+)(?: counter packets \d+ bytes \d+)? : (goto \w+)$/.exec(e.trim());
      if (x) (m[1] === 'ddp' ? fwd : rev).push(`"${m[2]}" . ${x[1]} . ${x[2]} : ${x[3]}`);
    }
  }
  const chains: string[] = [];
  for (const m of t.matchAll(/\tchain (a_\w+) \{\n\t\t([^\n]*)\n/g)) chains.push(`\tchain ${m[1]} { ${m[2].replace(/^meta l4proto (\{ tcp, udp \}|tcp|udp) /, '')}; }`);
  const devices = [...t.matchAll(/hook ingress device "(\w+)"/g)].map((m) => `"${m[1]}"`);
  const map = (name: string, els: string[]) =>
    `\tmap ${name} {\n\t\ttype ifname . ipv4_addr . inet_service : verdict\n${els.length ? `\t\telements = { ${els.join(', ')} }\n` : ''}\t}`;
  return [
    'table netdev pe {',
    ...chains,
    map('steer_fwd', fwd),
    map('steer_rev', rev),
    '\tchain ingress {',
    `\t\ttype filter hook ingress devices = { ${devices.join(', ')} } priority 0; policy drop;`,
    '\t\tiifname . ip daddr . th dport vmap @steer_fwd',
    '\t\tiifname . ip saddr . th sport vmap @steer_rev',
    '\t}',
    '}',
    '',
  ].join('\n');
};

/** Row maps with a size: the kernel's fixed-size hash (nft_hash: a plain bucket array) instead of rhashtable. */
const rowMapSize: Edit = (t) => t.replace(/(\tmap v[46]_\w+ \{\n\t\ttype [^\n]*\n)/g, '$1\t\tsize 65536\n');

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
  { name: 'perif', make: perInterface },
  { name: 'perif-l4', make: chainEdits(perInterface, noL4) },
  { name: 'mac12', make: macWrite12 },
  { name: 'actsize', make: actSize },
  { name: 'cand1', make: chainEdits(inlineHook, macWrite12, noL4, actSize) },
  { name: 'cand1-cnt', make: chainEdits(inlineHook, macWrite12, noL4, actSize, noCounters) },
  { name: 'cand1-dir', make: chainEdits(inlineHook, macWrite12, noL4, direct) },
  { name: 'direct-nocnt', make: chainEdits(direct, noCounters) },
  { name: 'reference', make: reference },
  { name: 'sized', make: rowMapSize },
  { name: 'base2', make: (b) => b },
];
