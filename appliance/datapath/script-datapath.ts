/**
 * Datapath over anything that runs nft scripts: the real driver runs `nft`,
 * the dry driver records the scripts. Keeps the ruleset last applied, turns
 * the next one into a diff against it (or a full replace), checks with
 * `nft -c`, applies with `nft -f` (one atomic transaction), and reads the
 * counters back. One operation at a time.
 */
import { isDirect, locateElement, overflowName, type NftChain, type RenderedRuleset } from '../compile/render-model.js';
import { printRuleset, type CounterValue, type ElementCounters } from '../compile/render-print.js';
import { carriedCounters, diffRulesets, type RulesetDiff } from './diff.js';
import { countersFromElementText, countersFromJson, snapshotCounters, type KernelCounters } from './counters.js';
import { parseNetlinkDump } from './netlink-counters.js';
import { counterIndexOf } from './counter-index.js';
import { CounterDumpReader } from './counter-dump.js';
import { indexedSnapshot } from './counter-snapshot.js';
import { DatapathError, type ApplyOptions, type ApplyResult, type CounterSnapshot, type Datapath } from './datapath.js';
import { BatchEncodeError, elementBatch, encodable, type ElementBatch, type ElementChange } from './netlink-batch.js';
import { dropScratchBatch, fullBatch, scratchName, skeletonOf, skeletonScript, type Skeleton } from './netlink-full.js';
import { chainBatch } from './netlink-chains.js';
import { kernelDiff, type KernelDiff } from './netlink-refresh.js';
import { compactedCopy, compactOverflow, foldOverflowCounters, overflowRows, placeOverflow } from './overflow.js';

export interface NftRunner {
  /** Run `nft [-c] -f -` with the script on stdin; throw DatapathError NFT_REJECTED with nft's message on failure. */
  script(script: string, check: boolean): Promise<void>;
  /** Run `nft <args>` and return its standard output. */
  query(args: string[]): Promise<string>;
  /**
   * Optional fast path: the raw netlink dump of these sets' elements and of
   * the table's counter objects (see netlink-counters.ts). Undefined or a
   * failure falls back to `nft -j list table`. With a sink, the output may go
   * there as it arrives (then the promise resolves with what was not passed).
   */
  dumpCounters?(table: string, sets: string[], sink?: (chunk: Buffer) => void): Promise<Buffer>;
  /**
   * Optional fast path: send a netlink batch of element changes; resolves with
   * the kernel's errors per message ([seq, errno, text]; empty: accepted).
   * Rejects with DatapathError NFT_UNAVAILABLE when it cannot be used.
   */
  elements?(batch: ElementBatch): Promise<[number, number, string][]>;
  /**
   * Optional fast path for full applies: the raw netlink dump of a table
   * (netlink-table-dump.ts). Rejects with DatapathError NFT_UNAVAILABLE when
   * it cannot be used.
   */
  dumpTable?(table: string, opts?: { small?: boolean }): Promise<Buffer>;
  /**
   * Optional: the interfaces' indexes ("7:eth1 8:eth2"). A skeleton dump holds
   * interface indexes (nft turns `fwd to "eth1"` into one), so a cached
   * skeleton is used only while they are the same; without this, never.
   */
  interfaceIndexes?(): Promise<string>;
  /**
   * Optional: runs a scratch-table script in a namespace of its own that has
   * the engine's interface names and indexes but none of its tables (nft's
   * cache there is empty; compile-apart.ts) and returns the framed dump of
   * `table` there. Rejects with NFT_REJECTED (nft's refusal) or NFT_UNAVAILABLE.
   */
  compileApart?(script: string, table: string, interfaces: string): Promise<Buffer>;
  /** Optional: gets compileApart ready for these interfaces (its namespace built, its processes started). */
  warmApart?(interfaces: string): Promise<void>;
}

interface Plan {
  mode: 'full' | 'diff' | 'noop';
  reason?: string;
  diff?: RulesetDiff;
}

/** Element adds above which (and above a quarter of the table) a change is applied in full. */
const BIG_DIFF = 20_000;

const elementCount = (r: RenderedRuleset): number => {
  let n = 0;
  for (const s of r.sets.values()) n += s.elements.size;
  return n;
};

export class ScriptDatapath implements Datapath {
  private current?: RenderedRuleset;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when the netlink fast path failed once: use nft from then on. */
  private dumpFailed?: string;
  /** Set when the netlink element writer could not be used: element diffs go through nft from then on. */
  private elementsFailed?: string;
  /** Set when a full apply over netlink could not be used (or the kernel refused what nft then accepted): nft -f from then on. */
  private fullFailed?: string;
  /** The skeleton last built in the scratch table, by its script: the same skeleton is not built again. */
  private skeletonCache = new Map<'full' | 'chains', { script: string; skeleton: Skeleton }>();
  /** Why diffs with new chains go to nft from now on (our transaction for them was refused where nft's was not). */
  private chainsFailed?: string;
  /** The kernel's refusal of our last chains-and-elements transaction, until nft's script shows whose fault it was. */
  private chainsRefused?: string;
  /** Why new chains are compiled in the engine's namespace rather than apart (compileApart). */
  private apartFailed?: string;
  /** Milliseconds of the last skeleton built: nft in the scratch table, dump and drop of it. */
  skeletonSteps?: { nftMs: number; dumpMs: number };
  /** Applies under way, and applies done: a counter read that overlaps one is read again. */
  private applying = 0;
  private applied = 0;

  constructor(
    protected readonly runner: NftRunner,
    readonly table: string,
  ) {}

  running(): RenderedRuleset | undefined {
    return this.current;
  }

  /** Forget the running ruleset: the next apply replaces the whole table. */
  forget(): void {
    this.current = undefined;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    // The queue must not hold the last result: a counter reading at 100k services is ~50 MB.
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private plan(next: RenderedRuleset, opts: ApplyOptions): Plan {
    if (next.table !== this.table) throw new DatapathError('NOT_LOADED', `the ruleset is for table ${next.table}, this datapath drives ${this.table}`);
    // A full apply loads every row into its direct map; a diff adds rows to the overflow maps only (overflow.ts).
    if (opts.full) return this.full(next, 'requested');
    if (!this.current) return this.full(next, 'no running ruleset known');
    const subsetOfPrev = new Set<string>();
    if (opts.compact) compactOverflow(next);
    else placeOverflow(this.current, next, subsetOfPrev);
    const p = diffRulesets(this.current, next, { subsetOfPrev });
    if (p.kind === 'full') return this.full(next, p.reason);
    // A diff puts new rows in the overflow maps, to be compacted later; when most of the table is new (a first
    // commit of 100k services), a full apply loads them straight into the direct maps, counters carried.
    let added = 0;
    for (const keys of p.diff.added.values()) added += keys.length;
    if (!opts.compact && added > BIG_DIFF && added > elementCount(next) / 4) return this.full(next, `${added} elements added: a full apply is cheaper`);
    return { mode: p.diff.empty ? 'noop' : 'diff', diff: p.diff };
  }

  private full(next: RenderedRuleset, reason: string): Plan {
    compactOverflow(next);
    return { mode: 'full', reason };
  }

  private scriptOf(plan: Plan, next: RenderedRuleset, counters?: ElementCounters): string {
    if (plan.mode === 'full') return printRuleset(next, counters);
    if (plan.mode === 'diff') return plan.diff!.script(counters);
    return '';
  }

  check(next: RenderedRuleset, opts: ApplyOptions = {}): Promise<void> {
    return this.serial(async () => {
      const plan = this.plan(next, opts);
      if (await this.viaNetlink(plan, next, true)) return;
      if (plan.mode === 'full' && (await this.viaNetlinkFull(next, true))) return;
      const script = this.scriptOf(plan, next);
      if (script) await this.runner.script(script, true);
    });
  }

  /**
   * Whether this plan's changes can go as one netlink batch of our own: of element messages, or of new
   * chains (built by nft in the scratch table) and element messages (netlink-chains.ts).
   */
  private netlinkable(plan: Plan, next: RenderedRuleset): 'elements' | 'chains' | undefined {
    if (plan.mode !== 'diff' || !this.runner.elements || this.elementsFailed || !this.current) return undefined;
    const d = plan.diff!;
    const kind = d.elementsOnly ? 'elements' : d.chainsAndElements && this.runner.dumpTable && !this.fullFailed && !this.chainsFailed ? 'chains' : undefined;
    if (!kind) return undefined;
    for (const name of [...d.deleted.keys(), ...d.added.keys()]) {
      const set = next.sets.get(name) ?? this.current.sets.get(name);
      if (!set || !encodable(set)) return undefined;
    }
    return kind;
  }

  /**
   * Sends the plan's changes as a netlink batch of ours: element messages, or
   * new objects and chains with them (check: the kernel checks, then aborts).
   * False when the plan needs nft's script, or the writer is not available
   * (then nft is used from now on).
   */
  private async viaNetlink(plan: Plan, next: RenderedRuleset, check: boolean, counters?: ElementCounters): Promise<boolean> {
    const kind = this.netlinkable(plan, next);
    if (!kind) return false;
    const d = plan.diff!;
    const change = (name: string, keys: string[], from: RenderedRuleset): ElementChange => ({ set: from.sets.get(name)!, keys, counters: counters?.get(name) });
    const deletes = [...d.deleted].map(([name, keys]) => change(name, keys, this.current!));
    const adds = [...d.added].map(([name, keys]) => change(name, keys, next));
    let batch: ElementBatch & { sentinel?: number };
    try {
      if (kind === 'elements') batch = elementBatch(this.table, deletes, adds, check);
      else {
        const chains = d.chainsAndElements!;
        let skeleton: Skeleton;
        try {
          skeleton = chains.add.length ? await this.skeletonFor(next, chains.add) : { objects: [], sets: [], elements: [], chains: [], rules: [] };
        } catch (e) {
          // nft refused a new chain in the scratch table (its script on the engine's table says why in its own
          // words), or the scratch table cannot be used: nft's script.
          if (!(e instanceof DatapathError) || (e.code !== 'NFT_REJECTED' && e.code !== 'NFT_UNAVAILABLE')) throw e;
          if (e.code === 'NFT_UNAVAILABLE') this.chainsFailed = e.message;
          return false;
        }
        batch = chainBatch(
          this.table,
          skeleton,
          { addObjects: chains.addObjects, delObjects: chains.delObjects, add: chains.add.map((c) => c.name), deletes, adds, del: chains.del },
          check,
        );
      }
    } catch (e) {
      // Something the encoder does not know: nft knows it.
      if (e instanceof BatchEncodeError) return false;
      throw e;
    }
    let errors: [number, number, string][];
    try {
      errors = (await this.runner.elements!(batch)).filter(([seq]) => seq !== batch.sentinel);
    } catch (e) {
      if (!(e instanceof DatapathError) || e.code !== 'NFT_UNAVAILABLE') throw e;
      this.elementsFailed = e.message;
      return false;
    }
    if (errors.length && kind === 'chains') {
      // Our copy of nft's chains is the newer path: nft's script either refuses in its own words or shows the fault was ours.
      this.chainsRefused = `our transaction of new chains and elements was refused by the kernel: ${errorLines(batch, errors).join('; ')}`;
      return false;
    }
    if (errors.length) {
      const lines = errorLines(batch, errors);
      const what = check ? 'the kernel rejected the element changes (check)' : 'the kernel rejected the element changes; the running ruleset is unchanged';
      throw new DatapathError('NFT_REJECTED', `${what}:\n${lines.join('\n')}`, lines.join('\n'));
    }
    return true;
  }

  /** The skeleton of `next` as nft builds it, dumped from the dormant scratch table (cached by its script and the interface indexes). */
  private async skeletonFor(next: RenderedRuleset, only?: readonly NftChain[]): Promise<Skeleton> {
    const kind = only ? 'chains' : 'full';
    // nft resolves interface names to indexes (fwd, dup): a cached dump is stale once an interface is made again.
    const indexes = this.runner.interfaceIndexes ? await this.runner.interfaceIndexes().catch(() => undefined) : undefined;
    const script = `${skeletonScript(next, only)}${indexes === undefined ? '' : `# ${indexes}\n`}`;
    const cached = this.skeletonCache.get(kind);
    if (indexes !== undefined && cached?.script === script) return cached.skeleton;
    this.skeletonCache.delete(kind);
    const d0 = performance.now();
    if (only && indexes !== undefined && this.runner.compileApart && !this.apartFailed) {
      try {
        const dump = await this.runner.compileApart(script, scratchName(this.table), indexes);
        this.skeletonSteps = { nftMs: performance.now() - d0, dumpMs: 0 };
        const skeleton = skeletonOf(dump, scratchName(this.table));
        this.skeletonCache.set(kind, { script, skeleton });
        return skeleton;
      } catch (e) {
        if (!(e instanceof DatapathError) || e.code !== 'NFT_UNAVAILABLE') throw e;
        // Compiled in the engine's namespace from now on (slower at scale, the same result).
        this.apartFailed = e.message;
      }
    }
    // nft compiles the rule text; a rule it rejects throws its message here, before the engine's table is touched.
    await this.runner.script(script, false);
    const d1 = performance.now();
    let dump: Buffer;
    try {
      dump = await this.runner.dumpTable!(scratchName(this.table), { small: true });
    } finally {
      await this.dropScratch();
    }
    this.skeletonSteps = { nftMs: d1 - d0, dumpMs: performance.now() - d1 };
    const skeleton = skeletonOf(dump, scratchName(this.table));
    if (!skeleton.chains.length && (only ? only.length : next.chains.size)) {
      throw new DatapathError('NFT_UNAVAILABLE', 'the dump of the scratch table holds no chain');
    }
    this.skeletonCache.set(kind, { script, skeleton });
    return skeleton;
  }

  /** In the background: the compile namespace ready for the first diff with a new chain. Failures show there. */
  private warmApart(): void {
    if (!this.runner.warmApart || !this.runner.interfaceIndexes || this.apartFailed) return;
    const warm = this.runner.warmApart.bind(this.runner);
    void this.runner
      .interfaceIndexes()
      .then((indexes) => warm(indexes))
      .catch(() => undefined);
  }

  private async dropScratch(): Promise<void> {
    const errors = await this.runner.elements!(dropScratchBatch(this.table)).catch(() => [[0, 0, 'writer']]);
    if (errors.length) await this.runner.script(`delete table netdev ${scratchName(this.table)}\n`, false).catch(() => undefined);
  }

  /**
   * A full apply (check: its validation) as one netlink transaction
   * (netlink-full.ts). Undefined when it cannot be used: then nft -f, and
   * from then on when the reason is lasting. A kernel rejection is answered
   * by nft too (fallback set): nft either gives its own, clearer refusal or
   * shows that our transaction was at fault.
   */
  private async viaNetlinkFull(
    next: RenderedRuleset,
    check: boolean,
    io: FullIo = {},
  ): Promise<{ skeletonMs: number; encodeMs: number; kernelMs: number; readMs?: number; kernelDiff?: KernelDiff } | undefined> {
    if (!this.runner.elements || !this.runner.dumpTable || this.fullFailed) return undefined;
    const t0 = performance.now();
    let skeleton: Skeleton;
    try {
      skeleton = await this.skeletonFor(next);
    } catch (e) {
      if (!(e instanceof DatapathError)) throw e;
      if (e.code === 'NFT_REJECTED') {
        // Most likely a rule nft refuses in any table: nft -c / -f of the whole script says so in its own words
        // (and if it takes the script, the scratch table was at fault: nft from now on).
        this.lastFallback = `nft refused the skeleton in the scratch table: ${e.message}`;
        return undefined;
      }
      if (e.code !== 'NFT_UNAVAILABLE') throw e;
      this.fullFailed = e.message;
      return undefined;
    }
    const t1 = performance.now();
    let readMs: number | undefined;
    if (io.live && !check) {
      let dump: Buffer | undefined;
      try {
        dump = await this.runner.dumpTable!(this.table);
      } catch (e) {
        if (!(e instanceof DatapathError) || e.code !== 'NFT_UNAVAILABLE') throw e;
      }
      if (dump) {
        const r0 = performance.now();
        const done = io.tryDiff ? await this.viaKernelDiff(next, skeleton, dump) : undefined;
        if (done) return { skeletonMs: t1 - t0, readMs: r0 - t1, encodeMs: done.encodeMs, kernelMs: done.kernelMs, kernelDiff: done.diff };
        io.counters = foldOverflowCounters(nonZero(parseNetlinkDump(dump, next.sets).elements), next);
      } else io.counters = await this.kernelElementCounters(next);
      readMs = performance.now() - t1;
    }
    const t1b = performance.now();
    const counters = io.counters;
    let batch: ElementBatch;
    try {
      batch = fullBatch(next, skeleton, { check, counters });
    } catch (e) {
      if (e instanceof BatchEncodeError) {
        this.lastFallback = `netlink encoder: ${e.message}`;
        return undefined;
      }
      throw e;
    }
    const t2 = performance.now();
    let errors: [number, number, string][];
    try {
      errors = await this.runner.elements(batch);
    } catch (e) {
      if (!(e instanceof DatapathError) || e.code !== 'NFT_UNAVAILABLE') throw e;
      this.fullFailed = e.message;
      return undefined;
    }
    if (errors.length) {
      this.lastFallback = `the kernel refused the netlink transaction: ${errorLines(batch, errors).join('; ')}`;
      return undefined;
    }
    return { skeletonMs: t1 - t0, readMs, encodeMs: t2 - t1b, kernelMs: performance.now() - t2 };
  }

  /**
   * The full apply as a diff against the table the kernel holds, when it has
   * the skeleton of `next` (netlink-refresh.ts); undefined when it has not, or
   * when the kernel refused the diff (then the table is replaced).
   */
  private async viaKernelDiff(next: RenderedRuleset, skeleton: Skeleton, dump: Buffer): Promise<{ diff: KernelDiff; encodeMs: number; kernelMs: number } | undefined> {
    const t0 = performance.now();
    let diff: KernelDiff | undefined;
    try {
      diff = kernelDiff(next, skeleton, dump, { check: false });
    } catch (e) {
      if (e instanceof BatchEncodeError) return undefined;
      throw e;
    }
    if (!diff) return undefined;
    const t1 = performance.now();
    const errors = await this.runner.elements!(diff.batch);
    if (errors.length) {
      this.lastFallback = `the kernel refused the diff against its table (${errorLines(diff.batch, errors).join('; ')}); replaced it instead`;
      return undefined;
    }
    return { diff, encodeMs: t1 - t0, kernelMs: performance.now() - t1 };
  }

  /** Why the last full apply or check went through nft although netlink was there (cleared by one that did not). */
  private lastFallback?: string;

  /** Why full applies do not use netlink (undefined while they do). */
  fullFallback(): string | undefined {
    return this.runner.dumpTable && this.runner.elements ? this.fullFailed : 'the runner has no netlink table dump';
  }

  /** Why element diffs do not use netlink (undefined while they do). */
  elementFallback(): string | undefined {
    return this.runner.elements ? this.elementsFailed : 'the runner has no netlink writer';
  }

  apply(next: RenderedRuleset, opts: ApplyOptions = {}): Promise<ApplyResult> {
    return this.serial(async () => {
      this.applying++;
      try {
        return await this.applyNow(next, opts);
      } finally {
        this.applying--;
        this.applied++;
      }
    });
  }

  /** Rows the running ruleset holds in overflow maps (added by diffs since the last full apply or compaction). */
  overflowRows(): number {
    return this.current ? overflowRows(this.current) : 0;
  }

  compact(): Promise<ApplyResult | undefined> {
    return this.serial(async () => {
      // Built from the running ruleset inside the queue: a commit applied meanwhile is not undone.
      if (!this.current || !overflowRows(this.current)) return undefined;
      this.applying++;
      try {
        return await this.applyNow(compactedCopy(this.current), { compact: true, check: false });
      } finally {
        this.applying--;
        this.applied++;
      }
    });
  }

  private async applyNow(next: RenderedRuleset, opts: ApplyOptions): Promise<ApplyResult> {
    const plan = this.plan(next, opts);
    this.chainsRefused = undefined;
    const result: ApplyResult = { mode: plan.mode, reason: plan.reason, scriptBytes: 0, readMs: 0, checkMs: 0, applyMs: 0, carried: 0, stats: plan.diff?.stats };
    if (plan.mode === 'noop') {
      this.current = next;
      return result;
    }
    let counters: ElementCounters | undefined;
    const t0 = performance.now();
    // A full apply over netlink reads the kernel's table anyway when counters are carried: one dump
    // serves both the diff against it and the counters.
    const live = plan.mode === 'full' && opts.carryCounters !== false && !!this.runner.dumpTable && !!this.runner.elements && !this.fullFailed;
    if (opts.carryCounters !== false && !live) {
      counters = plan.mode === 'full' ? await this.kernelElementCounters(next) : await this.carried(plan.diff!);
      for (const m of counters.values()) result.carried += m.size;
    }
    const t1 = performance.now();
    if (this.netlinkable(plan, next)) {
      // The batch is atomic: a rejected one changes nothing. Checking first (no BATCH_END) costs one more round trip.
      const checked = opts.check === false || (await this.viaNetlink(plan, next, true, counters));
      const t2 = performance.now();
      if (checked && (await this.viaNetlink(plan, next, false, counters))) {
        this.current = next;
        return { ...result, via: 'netlink', readMs: t1 - t0, checkMs: t2 - t1, applyMs: performance.now() - t2 };
      }
    }
    if (plan.mode === 'full') {
      this.lastFallback = undefined;
      // A diff against the kernel's table pays when its skeleton may be the new one: when the running
      // ruleset is not known (daemon start) or a full apply was asked for; not when the diff planner saw a
      // change of chains or set types.
      const io: FullIo = { counters, live, tryDiff: !this.current || plan.reason === 'requested' };
      const phases = await this.viaNetlinkFull(next, false, io);
      counters = io.counters;
      if (counters) {
        result.carried = 0;
        for (const m of counters.values()) result.carried += m.size;
      }
      if (phases) {
        this.current = next;
        this.warmApart();
        const { kernelDiff: kd, ...steps } = phases;
        const out: ApplyResult = { ...result, via: 'netlink', readMs: t1 - t0 + (phases.readMs ?? 0), checkMs: 0, applyMs: performance.now() - t1 - (phases.readMs ?? 0), phases: steps };
        if (kd) {
          out.kernelDiff = { kept: kd.kept, added: kd.added, deleted: kd.deleted, objectsAdded: kd.objectsAdded, objectsDeleted: kd.objectsDeleted };
          // Kept elements keep counting: their counters are carried without being read.
          out.carried = kd.kept;
        }
        return out;
      }
      if (this.lastFallback) result.fallback = this.lastFallback;
    }
    if (live && !counters) {
      // The netlink path gave up before reading the table: read the counters to carry as nft would.
      counters = await this.kernelElementCounters(next);
      for (const m of counters.values()) result.carried += m.size;
    }
    const script = this.scriptOf(plan, next, counters);
    result.scriptBytes = Buffer.byteLength(script);
    if (opts.check !== false) await this.runner.script(script, true);
    const t2 = performance.now();
    await this.runner.script(script, false);
    const t3 = performance.now();
    this.current = next;
    result.via = 'nft';
    if (this.chainsRefused) {
      // nft took the change the kernel refused from our transaction: that path was at fault, so nft from now on.
      this.chainsFailed = this.chainsRefused;
      result.fallback = this.chainsRefused;
    }
    // nft took what the kernel (or nft, in the scratch table) refused on the netlink path: that path was at fault, so nft from now on.
    if (result.fallback?.startsWith('the kernel refused') || result.fallback?.startsWith('nft refused the skeleton')) this.fullFailed = result.fallback;
    result.readMs = t1 - t0;
    result.checkMs = t2 - t1;
    result.applyMs = t3 - t2;
    return result;
  }

  /**
   * Counts of the old elements of replaced rows (small: only what changes).
   * Each is read where it lives now: a row names its direct map but may sit
   * in that map's overflow (overflow.ts), and an `nft get element` that
   * names one missing key fails whole. Overflow maps are small (rows added
   * since the last compaction): they are dumped over netlink. Other maps are
   * asked with one `nft get element` each (nft lists the table first: seconds
   * at 100k services, so never per key).
   */
  private async carried(diff: RulesetDiff): Promise<ElementCounters> {
    const current = this.current;
    if (!diff.carry.length || !current) return new Map();
    const byMap = new Map<string, string[]>();
    for (const c of diff.carry) {
      for (const e of c.from) {
        const at = locateElement(current, e);
        if (!at) continue;
        const l = byMap.get(at.map) ?? [];
        l.push(at.key);
        byMap.set(at.map, l);
      }
    }
    const read = new Map<string, Map<string, CounterValue>>();
    const overflows = [...byMap.keys()].filter((m) => m.endsWith('_o') && isDirect(current, m.slice(0, -2)));
    if (overflows.length && this.runner.dumpCounters && !this.dumpFailed) {
      try {
        const dumped = parseNetlinkDump(await this.runner.dumpCounters(this.table, overflows), current.sets).elements;
        for (const m of overflows) {
          read.set(m, dumped.get(m) ?? new Map());
          byMap.delete(m);
        }
      } catch (e) {
        this.dumpFailed = (e as Error).message;
      }
    }
    for (const [map, keys] of byMap) {
      const set = current.sets.get(map);
      if (!set) continue;
      const got = new Map<string, CounterValue>();
      try {
        const text = await this.runner.query(['get', 'element', 'netdev', this.table, map, `{ ${keys.join(', ')} }`]);
        for (const [k, v] of countersFromElementText(text, set)) got.set(k, v);
      } catch {
        // A key not where the running model says (the table changed behind the daemon's back): one dump of the
        // map finds those that are there (the rest start at zero) — never one nft run per key.
        const dumped = this.runner.dumpCounters ? await this.runner.dumpCounters(this.table, [map]).catch(() => undefined) : undefined;
        const all = dumped ? parseNetlinkDump(dumped, current.sets).elements.get(map) : undefined;
        for (const k of keys) {
          const v = all?.get(k);
          if (v) got.set(k, v);
        }
      }
      read.set(map, got);
    }
    return carriedCounters(diff.carry, (map, key) => read.get(map)?.get(key) ?? read.get(overflowName(map))?.get(key));
  }

  /** Element counters of the table as the kernel has it now, by (map, key); empty when there is no table. */
  private async kernelElementCounters(next: RenderedRuleset): Promise<ElementCounters> {
    try {
      return foldOverflowCounters(nonZero((await this.kernelCounters(next)).elements), next);
    } catch {
      return new Map();
    }
  }

  /**
   * Counters of the running ruleset; `via: 'nft'` skips the netlink fast path.
   * A read does not hold up applies (it can take seconds at 100k services);
   * when an apply overlaps the read, it is read again once that apply is done.
   */
  async readCounters(opts: { via?: 'auto' | 'nft' } = {}): Promise<CounterSnapshot> {
    const read = async () => {
      const model = this.current;
      if (!model) throw new DatapathError('NOT_LOADED', 'no ruleset has been applied through this datapath');
      const at = new Date();
      const snapshot = opts.via === 'nft' ? snapshotCounters(model, countersFromJson(await this.listJson(), model), at) : await this.indexedCounters(model, at);
      return { model, snapshot };
    };
    const seen = this.applied;
    const busy = this.applying > 0;
    const first = await read();
    if (!busy && this.applying === 0 && this.applied === seen) return first.snapshot;
    return (await this.serial(read)).snapshot;
  }

  /** Why the netlink counter dump is not used (undefined while it is). */
  counterFallback(): string | undefined {
    return this.runner.dumpCounters ? this.dumpFailed : 'the runner has no netlink dump';
  }

  /**
   * Counters of the running ruleset through the netlink dump, parsed as it
   * arrives straight into counts by slot (counter-dump.ts); `nft -j list` when
   * the dump is not available.
   */
  private async indexedCounters(model: RenderedRuleset, at: Date): Promise<CounterSnapshot> {
    if (this.runner.dumpCounters && !this.dumpFailed) {
      const index = counterIndexOf(model);
      const reader = new CounterDumpReader(index);
      let failed: unknown;
      const sink = (chunk: Buffer) => {
        try {
          if (failed === undefined) reader.push(chunk);
        } catch (e) {
          failed = e;
        }
      };
      try {
        sink(
          await this.runner.dumpCounters(
            this.table,
            index.dumped,
            sink,
          ),
        );
        if (failed !== undefined) throw failed;
        if (!reader.complete()) throw new Error('the netlink counter dump ended inside a frame');
        return indexedSnapshot(model, index, reader.packets, reader.bytes, reader.objects, at);
      } catch (e) {
        this.dumpFailed = (e as Error).message;
      }
    }
    return snapshotCounters(model, countersFromJson(await this.listJson(), model), at);
  }

  private async kernelCounters(model: RenderedRuleset): Promise<KernelCounters> {
    if (this.runner.dumpCounters && !this.dumpFailed) {
      const sets = [...model.sets.values()].filter((s) => s.counter).map((s) => s.name);
      try {
        return parseNetlinkDump(await this.runner.dumpCounters(this.table, sets), model.sets);
      } catch (e) {
        this.dumpFailed = (e as Error).message;
      }
    }
    return countersFromJson(await this.listJson(), model);
  }

  listRuleset(): Promise<unknown> {
    return this.serial(() => this.listJson());
  }

  private async listJson(): Promise<unknown> {
    const text = await this.runner.query(['-j', 'list', 'table', 'netdev', this.table]);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new DatapathError('NFT_OUTPUT', `nft -j list table printed something that is not JSON: ${(e as Error).message}`);
    }
  }
}

/** The kernel's errors of a batch, each with the message it answers. */
function errorLines(batch: ElementBatch, errors: [number, number, string][]): string[] {
  return errors.slice(0, 8).map(([seq, errno, text]) => {
    const m = batch.messages.find((x) => x.seq === seq);
    if (!m) return `${text} (errno ${errno})`;
    return m.elements ? `${m.op} of ${m.elements} element(s) in ${m.set}: ${text} (errno ${errno})` : `${m.op} ${m.set}: ${text} (errno ${errno})`;
  });
}

/** What a full apply over netlink is given and hands back: counters to carry (read from the live table when `live`). */
interface FullIo {
  counters?: ElementCounters;
  /** Read the engine's table (one dump): for the counters to carry, and for a diff against it when `tryDiff`. */
  live?: boolean;
  tryDiff?: boolean;
}

/** Only counters that counted something (a zero one is what a new element gets anyway). */
function nonZero(elements: ElementCounters): ElementCounters {
  for (const m of elements.values()) {
    for (const [k, v] of m) if (!v.packets && !v.bytes) m.delete(k);
  }
  return elements;
}
