/**
 * Counter id → slot, for the ledger: open addressing over an Int32Array
 * instead of a Map. At 100k services the ledger has ~620k counters; as a Map
 * they took ~28 MB of heap, and growing it to that size on the first reading
 * of a new configuration left ~60 MB of garbage (the old hash tables) that
 * raised the resident size. Here: 8 bytes per slot of capacity, grown once to
 * the size asked for. Pure.
 */

function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

const EMPTY = 0;
const DELETED = -1;

export class IdTable {
  /** Slot → id (undefined: a free slot). */
  private readonly ids: (string | undefined)[] = [];
  /** Slot + 1, EMPTY, or DELETED (a tombstone: probing goes on past it). */
  private table = new Int32Array(1024);
  private used = 0;
  private tombstones = 0;

  get size(): number {
    return this.used;
  }

  get(id: string): number | undefined {
    const mask = this.table.length - 1;
    for (let p = hashOf(id) & mask; ; p = (p + 1) & mask) {
      const v = this.table[p];
      if (v === EMPTY) return undefined;
      if (v > 0 && this.ids[v - 1] === id) return v - 1;
    }
  }

  /** The id of a slot in use. */
  idOf(slot: number): string | undefined {
    return this.ids[slot];
  }

  /** Room for n ids without growing (the table stays at most half full). */
  reserve(n: number): void {
    let size = this.table.length;
    while (size < 2 * n) size *= 2;
    if (size !== this.table.length) this.rehash(size);
  }

  /** Adds an id that is not in the table. */
  set(id: string, slot: number): void {
    if (2 * (this.used + this.tombstones + 1) > this.table.length) this.rehash(this.tombstones > this.used ? this.table.length : this.table.length * 2);
    const mask = this.table.length - 1;
    let p = hashOf(id) & mask;
    while (this.table[p] > 0) p = (p + 1) & mask;
    if (this.table[p] === DELETED) this.tombstones--;
    this.table[p] = slot + 1;
    this.ids[slot] = id;
    this.used++;
  }

  delete(id: string): boolean {
    const mask = this.table.length - 1;
    for (let p = hashOf(id) & mask; ; p = (p + 1) & mask) {
      const v = this.table[p];
      if (v === EMPTY) return false;
      if (v > 0 && this.ids[v - 1] === id) {
        this.table[p] = DELETED;
        this.ids[v - 1] = undefined;
        this.used--;
        this.tombstones++;
        return true;
      }
    }
  }

  /** [id, slot] of every id, in slot order. */
  *entries(): IterableIterator<[string, number]> {
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i];
      if (id !== undefined) yield [id, i];
    }
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    this.tombstones = 0;
    const mask = size - 1;
    for (const v of old) {
      if (v <= 0) continue;
      let p = hashOf(this.ids[v - 1]!) & mask;
      while (this.table[p] !== EMPTY) p = (p + 1) & mask;
      this.table[p] = v;
    }
  }
}
