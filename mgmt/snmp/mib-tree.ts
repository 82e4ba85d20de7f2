/**
 * A read-only MIB subtree as data, and the two lookups an AgentX subagent
 * answers: Get (exact; a known object without that instance is
 * noSuchInstance, an unknown object noSuchObject) and GetNext (the first
 * instance after a start OID, before an end OID). Tables keep their rows
 * sorted by index, so GetNext is a binary search, not a scan: a walk of
 * 10k services costs O(log n) per step. Pure.
 */
import { compareOid, startsWith, VT, type Oid, type Value } from './agentx-pdu.js';

export interface TableData {
  /** The entry OID (…Table.1). */
  entry: Oid;
  /** Column numbers that have values, ascending. */
  columns: number[];
  /**
   * Rows sorted by index (compareOid). cell(i) is the value of columns[i]
   * (undefined: none), computed when asked: a walk touches each cell once,
   * and building 50k rows' values up front would block the subagent.
   */
  rows: Row[];
}

export interface Row {
  index: Oid;
  cell: (col: number) => Value | undefined;
}

/** A row whose cells are already computed. */
export const fixedRow = (index: Oid, cells: (Value | undefined)[]): Row => ({ index, cell: (i) => cells[i] });

export interface MibData {
  /** Scalar object OID (without .0) → value. */
  scalars: { oid: Oid; value: Value | undefined }[];
  tables: TableData[];
}

type Node = { oid: Oid; scalar: Value | undefined; isScalar: true } | { oid: Oid; table: TableData; col: number; isScalar: false };

export class MibTree {
  private readonly nodes: Node[];

  constructor(
    readonly data: MibData,
    /** The registered subtree: OIDs under it that name no object answer noSuchObject. */
    readonly root: Oid,
  ) {
    const nodes: Node[] = data.scalars.map((s) => ({ oid: s.oid, scalar: s.value, isScalar: true as const }));
    for (const t of data.tables) t.columns.forEach((c, col) => nodes.push({ oid: [...t.entry, c], table: t, col, isScalar: false }));
    nodes.sort((a, b) => compareOid(a.oid, b.oid));
    this.nodes = nodes;
  }

  get(oid: Oid): Value {
    for (const n of this.nodes) {
      if (!startsWith(oid, n.oid)) continue;
      if (n.isScalar) return oid.length === n.oid.length + 1 && oid[n.oid.length] === 0 && n.scalar ? n.scalar : { type: VT.noSuchInstance };
      const i = findRow(n.table, oid.slice(n.oid.length));
      const row = n.table.rows[i];
      const cell = row && compareOid(row.index, oid.slice(n.oid.length)) === 0 ? row.cell(n.col) : undefined;
      return cell ?? { type: VT.noSuchInstance };
    }
    return { type: VT.noSuchObject };
  }

  /** The first instance after `start` (or at it, with include) and before `end` (empty: no bound). */
  next(start: Oid, include: boolean, end: Oid): { oid: Oid; value: Value } | undefined {
    for (const n of this.nodes) {
      let hit: { oid: Oid; value: Value } | undefined;
      if (n.isScalar) {
        if (!n.scalar) continue;
        const inst = [...n.oid, 0];
        const c = compareOid(inst, start);
        if (c > 0 || (c === 0 && include)) hit = { oid: inst, value: n.scalar };
      } else if (startsWith(start, n.oid)) {
        const rest = start.slice(n.oid.length);
        const rows = n.table.rows;
        for (let i = findRow(n.table, rest); i < rows.length; i++) {
          const c = compareOid(rows[i].index, rest);
          if (c < 0 || (c === 0 && !include)) continue;
          const cell = rows[i].cell(n.col);
          if (!cell) continue;
          hit = { oid: [...n.oid, ...rows[i].index], value: cell };
          break;
        }
      } else if (compareOid(n.oid, start) > 0) {
        for (const row of n.table.rows) {
          const cell = row.cell(n.col);
          if (cell) {
            hit = { oid: [...n.oid, ...row.index], value: cell };
            break;
          }
        }
      }
      if (!hit) continue;
      if (end.length && compareOid(hit.oid, end) >= 0) return undefined;
      return hit;
    }
    return undefined;
  }
}

/** Position of the first row whose index is >= `index`. */
function findRow(t: TableData, index: Oid): number {
  let lo = 0;
  let hi = t.rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareOid(t.rows[mid].index, index) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- value helpers --------------------------------------------------------

export const int = (value: number): Value => ({ type: VT.integer, value });
export const gauge = (value: number): Value => ({ type: VT.gauge32, value: Math.min(Math.max(0, Math.trunc(value)), 0xffffffff) });
export const counter32 = (value: number): Value => ({ type: VT.counter32, value: Math.trunc(value) % 2 ** 32 });
export const ticks = (value: number): Value => ({ type: VT.timeTicks, value: Math.trunc(value) % 2 ** 32 });
export const counter64 = (value: bigint): Value => ({ type: VT.counter64, value: BigInt.asUintN(64, value) });
export const str = (value: string): Value => ({ type: VT.octetString, value: Buffer.from(value, 'utf8') });
export const octets = (value: Buffer): Value => ({ type: VT.octetString, value });

/** SNMPv2-TC DateAndTime in UTC (11 octets, with the '+0:0' zone). */
export function dateAndTime(ms: number): Value {
  const d = new Date(ms);
  const b = Buffer.alloc(11);
  b.writeUInt16BE(d.getUTCFullYear(), 0);
  b[2] = d.getUTCMonth() + 1;
  b[3] = d.getUTCDate();
  b[4] = d.getUTCHours();
  b[5] = d.getUTCMinutes();
  b[6] = d.getUTCSeconds();
  b[7] = Math.floor(d.getUTCMilliseconds() / 100);
  b[8] = 0x2b; // '+'
  return octets(b);
}
