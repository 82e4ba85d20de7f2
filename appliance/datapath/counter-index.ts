/**
 * What reading a ruleset's counters needs, made once per ruleset so that a
 * reading creates no per-element strings or objects: at 100k services a
 * reading covers ~410k elements, and parsing each dumped key into the
 * renderer's key text and a Map of them built ~150 MB of garbage per reading
 * (the resident size of the daemon rose by as much every 20 s).
 *
 * Every row-map element a row counts gets a slot (a number); a reading is then
 * two Float64Arrays indexed by slot. Dumped elements find their slot by a hash
 * of the key bytes the kernel holds (the netlink encoder's bytes of the key
 * text: what a full apply writes), checked against 96 bits of hash per slot.
 * Sets the encoder cannot describe (single-field intervals) are matched by
 * their key text instead. Pure.
 */
import { isDirect, overflowName, type RenderedRuleset } from '../compile/render-model.js';
import { encodable, SetEncoder } from './netlink-encode.js';

/** Scratch of keyHash(): the three 32-bit hashes of the last key. */
const H = new Int32Array(3);

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** One murmur3 round of word k into h. */
function round(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * Hashes set number `set` and the bytes buf[a0, a1) then bbuf[b0, b1) (the
 * key and, for an interval, its end; b0 = b1 for none; bbuf defaults to buf)
 * into H: three murmur3 lanes with different seeds.
 */
export function keyHash(set: number, buf: Uint8Array, a0: number, a1: number, b0: number, b1: number, bbuf: Uint8Array = buf): Int32Array {
  let h1 = round(0x9747b28c, set);
  let h2 = round(0x2f3c8a17, set);
  let h3 = round(0x5a1d4e63, set);
  for (let part = 0; part < 2; part++) {
    const from = part ? b0 : a0;
    const to = part ? b1 : a1;
    if (part) buf = bbuf;
    let i = from;
    for (; i + 4 <= to; i += 4) {
      const k = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
      h1 = round(h1, k);
      h2 = round(h2, k ^ 0x5bd1e995);
      h3 = round(h3, rotl(k, 7));
    }
    if (i < to) {
      let k = 0;
      for (let s = 0; i < to; i++, s += 8) k |= buf[i] << s;
      h1 = round(h1, k);
      h2 = round(h2, k ^ 0x5bd1e995);
      h3 = round(h3, rotl(k, 7));
    }
    const len = to - from;
    h1 = round(h1, len);
    h2 = round(h2, len);
    h3 = round(h3, len);
  }
  H[0] = fmix(h1);
  H[1] = fmix(h2);
  H[2] = fmix(h3);
  return H;
}

/** One set the index covers. */
export interface IndexedSet {
  name: string;
  /** Field types of the key ("ifname", "ipv4_addr", ...). */
  types: string[];
  interval: boolean;
  /** Sets the encoder cannot describe: key text → slot (matched by text). */
  byText?: Map<string, number>;
}

export class CounterIndex {
  readonly sets: IndexedSet[] = [];
  /** The sets a reading dumps: every counting set, and the overflow map of each direct one. */
  readonly dumped: string[] = [];
  private readonly setNumber = new Map<string, number>();
  /** Number of slots. */
  slots = 0;
  /** Open addressing (linear probing) over the hashed slots: slot + 1, 0 when empty. */
  private table = new Int32Array(1 << 10);
  /** The three hashes of each hashed slot. */
  private hashes = new Int32Array(3 << 10);

  /** Row ids in the ruleset's order (the ruleset's own strings). */
  readonly rowIds: string[] = [];
  /** Row → slot of its own element (-1: not in a counting set). */
  readonly rowSlot: Int32Array;
  /** Row → further slots (a dynamic range that does not contain the port); rare. */
  readonly rowMore = new Map<number, number[]>();
  /** Row → 2 × its service port + 1 for an "out" row, or -1 for a hop. */
  readonly rowSide: Int32Array;
  /** Service ports in order of appearance: "service/port" ("-" without a port), service, port. */
  readonly spKeys: string[] = [];
  readonly spService: string[] = [];
  readonly spPort: (number | undefined)[] = [];

  constructor(model: Pick<RenderedRuleset, 'sets' | 'rows'>) {
    const encoders = new Map<string, SetEncoder>();
    // A direct map's overflow holds rows of the same map that diffs added (datapath/overflow.ts): its elements
    // take the direct map's set number, so a row finds its slot in whichever of the two holds it.
    const overflows = new Map<string, string>();
    for (const s of model.sets.values()) if (isDirect(model, s.name)) overflows.set(overflowName(s.name), s.name);
    for (const s of model.sets.values()) {
      if (!s.counter || overflows.has(s.name)) continue;
      this.setNumber.set(s.name, this.sets.length);
      this.dumped.push(s.name);
      const o = overflowName(s.name);
      if (overflows.get(o) === s.name) {
        this.setNumber.set(o, this.sets.length);
        this.dumped.push(o);
      }
      const set: IndexedSet = { name: s.name, types: s.keyType.split(' . '), interval: s.interval };
      if (encodable(s)) encoders.set(s.name, new SetEncoder(s));
      else set.byText = new Map();
      this.sets.push(set);
    }
    const slotOf = (map: string, key: string): number => {
      const n = this.setNumber.get(map);
      if (n === undefined) return -1;
      const set = this.sets[n];
      if (set.byText) {
        let slot = set.byText.get(key);
        if (slot === undefined) set.byText.set(key, (slot = this.slots++));
        return slot;
      }
      // The encoder's bytes, no string per key; an interval's are its start and its end, as the dump's KEY and KEY_END.
      const { lo, hi } = encoders.get(set.name)!.keyBytes(key);
      const h = hi ? keyHash(n, lo, 0, lo.length, 0, hi.length, hi) : keyHash(n, lo, 0, lo.length, lo.length, lo.length);
      const found = this.find(h);
      if (found >= 0) return found;
      const slot = this.slots++;
      this.insert(h, slot);
      return slot;
    };
    const rows = model.rows.size;
    this.rowSlot = new Int32Array(rows);
    this.rowSide = new Int32Array(rows);
    const spNumber = new Map<string, number>();
    let r = 0;
    for (const row of model.rows.values()) {
      this.rowIds.push(row.id);
      this.rowSlot[r] = slotOf(row.map, row.key);
      if (row.more?.length) this.rowMore.set(r, row.more.map((e) => slotOf(e.map, e.key)));
      if (row.role === 'hop') this.rowSide[r] = -1;
      else {
        const k = `${row.service}/${row.servicePort ?? '-'}`;
        let sp = spNumber.get(k);
        if (sp === undefined) {
          spNumber.set(k, (sp = this.spKeys.length));
          this.spKeys.push(k);
          this.spService.push(row.service);
          this.spPort.push(row.servicePort);
        }
        this.rowSide[r] = 2 * sp + (row.role === 'out' ? 1 : 0);
      }
      r++;
    }
  }

  /** The number of a counting set, or undefined for a set the index does not cover. */
  setOf(name: string): number | undefined {
    return this.setNumber.get(name);
  }

  /** The slot of a dumped key of set `set` (bytes buf[a0, a1), its end buf[b0, b1)), or -1 when no row counts it. */
  slotOfBytes(set: number, buf: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
    return this.find(keyHash(set, buf, a0, a1, b0, b1));
  }

  /** The slot of a key text of a set matched by text (IndexedSet.byText), or -1. */
  slotOfText(set: number, key: string): number {
    return this.sets[set].byText?.get(key) ?? -1;
  }

  private find(h: Int32Array): number {
    const mask = this.table.length - 1;
    for (let p = h[0] & mask; ; p = (p + 1) & mask) {
      const v = this.table[p];
      if (v === 0) return -1;
      const s = v - 1;
      if (this.hashes[3 * s] === h[0] && this.hashes[3 * s + 1] === h[1] && this.hashes[3 * s + 2] === h[2]) return s;
    }
  }

  private insert(h: Int32Array, slot: number): void {
    if (3 * slot + 3 > this.hashes.length) {
      const more = new Int32Array(this.hashes.length * 2);
      more.set(this.hashes);
      this.hashes = more;
    }
    this.hashes[3 * slot] = h[0];
    this.hashes[3 * slot + 1] = h[1];
    this.hashes[3 * slot + 2] = h[2];
    if (2 * (slot + 1) > this.table.length) {
      // Rehash into a table twice the size (kept at most half full).
      const old = this.table;
      this.table = new Int32Array(old.length * 2);
      const mask = this.table.length - 1;
      for (const v of old) {
        if (v === 0) continue;
        let p = this.hashes[3 * (v - 1)] & mask;
        while (this.table[p] !== 0) p = (p + 1) & mask;
        this.table[p] = v;
      }
    }
    const mask = this.table.length - 1;
    let p = h[0] & mask;
    while (this.table[p] !== 0) p = (p + 1) & mask;
    this.table[p] = slot + 1;
  }
}

const indexes = new WeakMap<object, CounterIndex>();

/** The index of a ruleset, made on first use and kept as long as the ruleset. */
export function counterIndexOf(model: Pick<RenderedRuleset, 'sets' | 'rows'>): CounterIndex {
  let index = indexes.get(model);
  if (!index) indexes.set(model, (index = new CounterIndex(model)));
  return index;
}
