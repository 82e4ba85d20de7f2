/**
 * The one place the transaction layer reaches the data plane: compile +
 * render + `nft -c` (prepare) and the atomic apply. Errors come back as
 * VcnErrors with codes the caller can show. Adjust here if the engine's API
 * changes.
 */
import { VcnError } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { Engine, type FactsSource, type Prepared } from '../../appliance/engine.js';
import type { ApplyResult, Datapath } from '../../appliance/datapath/datapath.js';
import type { RuntimeState } from '../../appliance/compile/compile.js';

export interface PreparedChange {
  config: Config;
  /** Not the sequence table: the ruleset is made from it, and at 100k services it weighs ~250 MB for the rest of the commit. */
  prepared: Pick<Prepared, 'config' | 'ruleset'>;
  prepareMs: number;
  checkMs: number;
  /** The change must be applied in full (requested, or the kernel refused the diff). */
  full: boolean;
  /** Why the diff was refused, when it was. */
  diffRefused?: string;
}

export interface Dataplane {
  /**
   * Compile, render and check with `nft -c` (against a diff of the running
   * ruleset, or a full load when `full`). Changes nothing. `check: false` with
   * `full` leaves the check to the apply: a full replace is one kernel
   * transaction that either happens or not, and checking first costs as much
   * as applying (~7 s of nft at 100k services).
   */
  prepare(config: Config, opts?: { full?: boolean; check?: boolean; state?: RuntimeState }): Promise<PreparedChange>;
  /** Load a prepared change atomically; on failure the running ruleset is unchanged. */
  apply(change: PreparedChange, opts?: { full?: boolean }): Promise<ApplyResult>;
  /** Rows that commits added since the last full apply move into the direct maps (appliance/datapath/overflow.ts); undefined: nothing to move. */
  compact?(): Promise<ApplyResult | undefined>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class EngineDataplane implements Dataplane {
  readonly engine: Engine;
  private readonly datapath: Datapath;
  private readonly log: (line: string) => void;

  private readonly afterWork: (elements: number) => void;

  /** `afterWork`: told how many elements each apply loaded (full) or changed (diff), e.g. to settle the heap after a big one. */
  constructor(opts: {
    datapath: Datapath;
    facts: FactsSource;
    tableName?: string;
    localAddresses?: string[];
    log?: (line: string) => void;
    afterWork?: (elements: number) => void;
  }) {
    this.engine = new Engine(opts);
    this.datapath = opts.datapath;
    this.log = opts.log ?? (() => undefined);
    this.afterWork = opts.afterWork ?? (() => undefined);
  }

  async prepare(config: Config, opts: { full?: boolean; check?: boolean; state?: RuntimeState } = {}): Promise<PreparedChange> {
    const t0 = performance.now();
    let prepared: PreparedChange['prepared'];
    try {
      const { ruleset } = await this.engine.prepare(config, opts.state);
      prepared = { config, ruleset };
    } catch (e) {
      throw new VcnError('PREPARE_FAILED', `cannot build the ruleset: ${message(e)}`, [{ code: 'PREPARE_FAILED', path: '/', message: message(e) }]);
    }
    const t1 = performance.now();
    let full = opts.full ?? false;
    let fallback: string | undefined;
    if (full && opts.check === false) return { config, prepared, prepareMs: t1 - t0, checkMs: 0, full };
    try {
      await this.datapathCheck(prepared, { full });
    } catch (e) {
      if (full) throw new VcnError('NFT_CHECK_FAILED', message(e), [{ code: 'NFT_CHECK_FAILED', path: '/', message: message(e) }]);
      // The kernel refused the diff; a full replace is just as atomic. If that passes too, the diff was at fault.
      try {
        await this.datapathCheck(prepared, { full: true });
      } catch (e2) {
        throw new VcnError('NFT_CHECK_FAILED', message(e2), [{ code: 'NFT_CHECK_FAILED', path: '/', message: message(e2) }]);
      }
      full = true;
      fallback = message(e);
      this.log(`the kernel refused the diff, applying in full instead: ${fallback}`);
    }
    return { config, prepared, prepareMs: t1 - t0, checkMs: performance.now() - t1, full, diffRefused: fallback };
  }

  private datapathCheck(prepared: PreparedChange['prepared'], opts: { full?: boolean }): Promise<void> {
    return opts.full ? this.datapath.check(prepared.ruleset, { full: true }) : this.engine.check(prepared);
  }

  async apply(change: PreparedChange, opts: { full?: boolean } = {}): Promise<ApplyResult> {
    try {
      // check: false — prepare() just ran `nft -c` on the same ruleset against the same running one.
      const r = await this.engine.apply(change.prepared, { check: false, full: opts.full || change.full });
      this.afterWork(r.mode === 'full' ? change.prepared.ruleset.stats.elements : elementsChanged(r));
      return r;
    } catch (e) {
      throw new VcnError('APPLY_FAILED', message(e), [{ code: 'APPLY_FAILED', path: '/', message: message(e) }]);
    }
  }

  async compact(): Promise<ApplyResult | undefined> {
    try {
      const r = await this.engine.compact();
      if (r) this.afterWork(elementsChanged(r));
      return r;
    } catch (e) {
      throw new VcnError('APPLY_FAILED', message(e), [{ code: 'APPLY_FAILED', path: '/', message: message(e) }]);
    }
  }
}

const elementsChanged = (r: ApplyResult): number => (r.stats ? r.stats.elementsAdded + r.stats.elementsDeleted : 0);
