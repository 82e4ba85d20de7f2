/**
 * The kernel seam: the only place that runs `nft`. Everything above it hands
 * over rendered rulesets and gets counters back.
 */
import type { RenderedRuleset } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import type { DiffStats } from './diff.js';

export type { CounterValue } from '../compile/render-print.js';

export interface ApplyOptions {
  /** Replace the whole table even when a diff against the running ruleset is possible. */
  full?: boolean;
  /**
   * Run `nft -c` first (default true). Skip only when check() just passed for the same ruleset.
   * A full apply over netlink never checks first: its one transaction is validated as a whole
   * and a rejected one changes nothing, and a check would cost the kernel the same again.
   */
  check?: boolean;
  /**
   * Keep row counters across element replacement (default true): a row whose
   * element is replaced (its next hop or key changed) starts from its old counts.
   * For a full apply this reads the kernel table first.
   */
  carryCounters?: boolean;
  /**
   * Let the diff add rows to the direct maps (compaction, datapath/overflow.ts) instead of their
   * overflow maps. Adding goto elements makes the kernel re-validate the table's jumps (~20 ms per
   * 100k rows), so only compaction asks for it.
   */
  compact?: boolean;
}

export interface ApplyResult {
  mode: 'full' | 'diff' | 'noop';
  /** Why a full apply was chosen. */
  reason?: string;
  scriptBytes: number;
  /** Milliseconds: reading counters to carry, `nft -c`, `nft -f`. */
  readMs: number;
  checkMs: number;
  applyMs: number;
  /** Rows (diff) or elements (full) whose counters were carried over. */
  carried: number;
  /** How it reached the kernel: an nft script, or a netlink batch (element changes, or a whole table). */
  via?: 'nft' | 'netlink';
  /** Milliseconds of the steps of a full apply over netlink: skeleton (nft in the scratch table + dump; 0 when cached), encode, kernel. */
  phases?: { skeletonMs: number; encodeMs: number; kernelMs: number };
  /**
   * A full apply that found the new ruleset's skeleton in the kernel changed only the elements
   * and objects that differ (netlink-refresh.ts): elements kept (they keep their counters), added, deleted.
   */
  kernelDiff?: { kept: number; added: number; deleted: number; objectsAdded: number; objectsDeleted: number };
  /** Why a full apply went through nft although netlink was available. */
  fallback?: string;
  stats?: DiffStats;
}

export interface ServicePortCounters {
  service: string;
  servicePort?: number;
  /** Packets of the service's clients entering its chains (the "in" rows). */
  in: CounterValue;
  /** Packets delivered back to the clients (the "out" rows). */
  out: CounterValue;
}

/** Counts by name, read-only: a Map, or a view over typed arrays (counter-snapshot.ts). */
export interface CounterTable<V> extends Iterable<[string, V]> {
  get(key: string): V | undefined;
  readonly size: number;
  keys(): Iterable<string>;
  values(): Iterable<V>;
  entries(): Iterable<[string, V]>;
}

export interface CounterSnapshot {
  /** When the kernel was read. */
  at: Date;
  /** Row id (RowCounter.id) → counts. Bytes are L3 bytes at ingress; packets are skbs (GRO may merge). */
  rows: CounterTable<CounterValue>;
  /** ACL counter name (AclCounter.name) → counts. */
  acl: Map<string, CounterValue>;
  /** Per-member counter of a load-shared row (ShareCounter.name) → counts. Optional so older snapshots stay valid. */
  share?: Map<string, CounterValue>;
  /** "service/port" → in and out, summed from the rows. */
  servicePorts: CounterTable<ServicePortCounters>;
}

export interface Datapath {
  /** Validate what apply(next) would send, with `nft -c`. Throws DatapathError with nft's message. */
  check(next: RenderedRuleset, opts?: ApplyOptions): Promise<void>;
  /** Make `next` the running ruleset in one atomic transaction (a diff against the running one when possible). */
  apply(next: RenderedRuleset, opts?: ApplyOptions): Promise<ApplyResult>;
  /** Counters of the running ruleset, attributed to rows, ACL rules and service ports. */
  readCounters(): Promise<CounterSnapshot>;
  /** The engine's table as nft JSON (`nft -j list table`). */
  listRuleset(): Promise<unknown>;
  /** The ruleset last applied through this datapath. */
  running(): RenderedRuleset | undefined;
  /**
   * Moves the rows that diffs put into overflow maps into their direct maps, in one transaction
   * (a diff: counts carried), without a full apply. Undefined when there is nothing to move.
   */
  compact?(): Promise<ApplyResult | undefined>;
  /** Stops helper processes the datapath started (the kernel table stays). */
  close?(): void;
}

export type DatapathErrorCode = 'NFT_REJECTED' | 'NFT_TIMEOUT' | 'NFT_UNAVAILABLE' | 'NFT_OUTPUT' | 'NOT_LOADED';

export class DatapathError extends Error {
  constructor(
    readonly code: DatapathErrorCode,
    message: string,
    /** nft's own error text, complete. */
    readonly stderr = '',
    /** The nft arguments that failed. */
    readonly argv: string[] = [],
  ) {
    super(message);
    this.name = 'DatapathError';
  }
}
