/**
 * The management API the NETCONF server (and through it the TUI and the vcn
 * command) serves: sessions, datastores, edit, validate, commit (plain and
 * confirmed), confirm, cancel, rollback, compare, history, copy to startup,
 * and provisioning. One commit at a time.
 *
 * A commit:  stale check → validate (schema + semantics) → prepare (compile,
 * render, nft -c) → apply (nft -f, atomic) → record (one SQLite transaction).
 * The store is written only after the kernel took the ruleset: a crash in
 * between leaves the store at the old commit, and start() reloads the store's
 * running configuration into the kernel in full, so the two agree again.
 */
import { unsharedCopy } from '../store/config-intern.js';
import { randomUUID } from 'node:crypto';
import { VcnError, type ValidationIssue } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import type { ApplyResult } from '../../appliance/datapath/datapath.js';
import type { RuntimeState } from '../../appliance/compile/compile.js';
import { checkConfig } from '../schema/load-config.js';
import type { Actor, Client, CommitInfo, CommitKind, PendingConfirm, Store } from '../store/store.js';
import { diffConfigs, type ConfigChange } from './config-diff.js';
import type { Dataplane } from './dataplane.js';
import { allocateServiceIp, instantiatePackage, type PackageRequest } from './provision.js';
import { protectSecrets } from './secrets.js';

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface NorthboundOptions {
  store: Store;
  dataplane: Dataplane;
  clock?: Clock;
  log?: (line: string) => void;
  /** Delay before a failed automatic revert is tried again (ms, default 5000). */
  revertRetryMs?: number;
}

export interface Session {
  id: string;
  user: string;
  client: Client;
}

/** Which candidate an operation works on: the session's own (default) or the shared one. */
export interface CandidateOptions {
  shared?: boolean;
}

/** Reading a datastore: `readonly` returns the store's cached object (no copy); the caller must not change it. */
export interface ReadOptions extends CandidateOptions {
  readonly?: boolean;
}

export interface CommitOptions extends CandidateOptions {
  comment?: string;
  /** Confirmed commit: revert in place after this many seconds unless confirmed. */
  confirmTimeout?: number;
  /** Refuse with COMMIT_IN_PROGRESS instead of waiting for a running commit. */
  noWait?: boolean;
}

export interface CommitResult {
  commit: CommitInfo;
  changes: ConfigChange[];
  apply: ApplyResult;
  /** Milliseconds per phase. */
  timings: { validate: number; prepare: number; check: number; apply: number; store: number; total: number };
  /** Set for a confirmed commit: when it reverts unless confirmed (ms since the epoch). */
  confirmDeadline?: number;
}

export interface StartReport {
  /** What the data plane was loaded from. */
  loaded: 'running' | 'startup' | 'nothing';
  commit: number | null;
  apply?: ApplyResult;
  /** A pending confirmed commit found in the store, and when it reverts. */
  pending?: PendingConfirm;
  error?: string;
}

export type ConfigRef = number | 'running' | 'startup' | 'candidate';

const SYSTEM: Actor = { user: 'system', client: 'system' };

export const emptyConfig = (): Config => checkConfig({}).config;

export class Northbound {
  private readonly store: Store;
  private readonly dataplane: Dataplane;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly revertRetryMs: number;
  private readonly sessions = new Map<string, Session>();
  private queue: Promise<unknown> = Promise.resolve();
  private busy = 0;
  private timer: unknown;
  private stopped = false;
  /** Health state every commit compiles with (devices out of service); changed only by recompute(). */
  private runtime: RuntimeState = {};

  constructor(opts: NorthboundOptions) {
    this.store = opts.store;
    this.dataplane = opts.dataplane;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => undefined);
    this.revertRetryMs = opts.revertRetryMs ?? 5000;
  }

  // ---- lifecycle --------------------------------------------------------

  /**
   * Loads the data plane from the store (in full: whatever the kernel holds is
   * replaced) and re-arms a pending confirmed commit. With `boot`, the startup
   * configuration becomes running first (as a commit) when it differs.
   */
  start(opts: { boot?: boolean } = {}): Promise<StartReport> {
    return this.serial(async () => {
      let running = this.store.running();
      let loaded: StartReport['loaded'] = 'running';
      const startup = this.store.datastore('startup');
      if (startup && (opts.boot || running.id === null) && diffConfigs(running.config, startup.config).length) {
        await this.transact(SYSTEM, startup.config, { kind: 'startup', comment: 'startup configuration loaded at boot', parent: running.id, full: true });
        running = this.store.running();
        loaded = 'startup';
      }
      const report: StartReport = { loaded: running.config ? loaded : 'nothing', commit: running.id };
      try {
        const change = await this.dataplane.prepare(running.config ?? emptyConfig(), { full: true, check: false, state: this.runtime });
        report.apply = await this.dataplane.apply(change, { full: true });
      } catch (e) {
        report.error = (e as Error).message;
        this.log(`start: the data plane could not be loaded from the store: ${report.error}`);
      }
      const pending = this.store.pending();
      if (pending) {
        report.pending = pending;
        this.arm(pending);
      }
      this.store.event('daemon-start', undefined, { commit: running.id, loaded: report.loaded, error: report.error });
      return report;
    });
  }

  /**
   * Loads the running configuration into the data plane again, in full, with
   * the counters carried: nft resolves `fwd to` / `dup to` interface names to
   * indexes when rules are loaded, so after an engine interface is made again
   * only a new load points them at it. Not a commit: the configuration is
   * the same. Recorded as a `dataplane-reload` event.
   */
  reload(reason: string): Promise<ApplyResult> {
    return this.serial(async () => {
      const running = this.store.running();
      const change = await this.dataplane.prepare(running.config ?? emptyConfig(), { full: true, check: false, state: this.runtime });
      const apply = await this.dataplane.apply(change, { full: true });
      this.store.event('dataplane-reload', undefined, { reason, commit: running.id, ms: Math.round(apply.readMs + apply.applyMs), carried: apply.carried });
      return apply;
    });
  }

  /**
   * Moves rows that commits put into overflow maps into the direct maps (one transaction, counts
   * carried; appliance/datapath/overflow.ts), between commits. Undefined when there was nothing to do.
   */
  compact(): Promise<ApplyResult | undefined> {
    if (this.stopped || !this.dataplane.compact) return Promise.resolve(undefined);
    return this.serial(() => this.dataplane.compact!());
  }

  /** Stops the confirm timer and waits for the operation in progress. A pending confirmation stays in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => undefined);
  }

  // ---- sessions ---------------------------------------------------------

  openSession(user: string, client: Client): Session {
    const s: Session = { id: randomUUID(), user, client };
    this.sessions.set(s.id, s);
    this.store.audit({ user, client, session: s.id }, 'session-open');
    return s;
  }

  /** Ends a session; its private candidate is discarded. */
  closeSession(id: string): void {
    const s = this.session(id);
    this.store.deleteDatastore(`candidate:${id}`, this.actor(s));
    this.sessions.delete(id);
    this.store.audit(this.actor(s), 'session-close');
  }

  private session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new VcnError('NO_SUCH_SESSION', `session ${id} does not exist`);
    return s;
  }

  private actor(s: Session): Actor {
    return { user: s.user, client: s.client, session: s.id };
  }

  private candidateName(s: Session, o: CandidateOptions = {}): string {
    return o.shared ? 'candidate' : `candidate:${s.id}`;
  }

  // ---- datastores -------------------------------------------------------

  /** Running, startup, or the session's candidate (a copy of running until edited). */
  getConfig(sessionId: string, source: 'running' | 'startup' | 'candidate', o: ReadOptions = {}): Config {
    const s = this.session(sessionId);
    if (source === 'running') return this.store.running(o).config ?? emptyConfig();
    if (source === 'startup') return this.store.datastore('startup', o)?.config ?? emptyConfig();
    return this.candidate(s, o).config;
  }

  private candidate(s: Session, o: ReadOptions): { config: Config; base: number | null; edited: boolean } {
    const ds = this.store.datastore(this.candidateName(s, o), o);
    if (ds) return { config: ds.config, base: ds.base, edited: true };
    const r = this.store.running(o);
    return { config: r.config ?? emptyConfig(), base: r.id, edited: false };
  }

  /** Replaces the candidate with a tree (validated at validate/commit, not here). */
  setCandidate(sessionId: string, tree: Config, o: CandidateOptions = {}): void {
    const s = this.session(sessionId);
    const base = this.candidate(s, o).base;
    this.store.putDatastore(this.candidateName(s, o), protectSecrets(tree), base, this.actor(s), 'edit-config');
  }

  /** Edits the candidate in place: `edit` changes the copy it gets (or returns a new one). */
  editCandidate(sessionId: string, edit: (c: Config) => Config | void, o: CandidateOptions = {}): Config {
    const s = this.session(sessionId);
    const cur = this.candidate(s, o);
    const next = protectSecrets(edit(cur.config) ?? cur.config);
    this.store.putDatastore(this.candidateName(s, o), next, cur.base, this.actor(s), 'edit-config');
    return next;
  }

  /** Throws the candidate away: it reads as running again. */
  discardChanges(sessionId: string, o: CandidateOptions = {}): void {
    const s = this.session(sessionId);
    this.store.deleteDatastore(this.candidateName(s, o), this.actor(s));
  }

  /** Schema and semantic issues of the candidate (empty when valid); with `prepare`, also compile, render and `nft -c`. */
  async validate(sessionId: string, o: CandidateOptions & { prepare?: boolean } = {}): Promise<ValidationIssue[]> {
    const s = this.session(sessionId);
    const { config, issues } = checkConfig(this.candidate(s, o).config);
    if (issues.length || !o.prepare) return issues;
    try {
      await this.serial(() => this.dataplane.prepare(config, { state: this.runtime }));
    } catch (e) {
      if (e instanceof VcnError) return e.issues;
      throw e;
    }
    return [];
  }

  copyRunningToStartup(sessionId: string): void {
    this.store.copyRunningToStartup(this.actor(this.session(sessionId)));
  }

  /** Changes from one configuration to another: commit ids, running, startup, or this session's candidate. */
  compare(sessionId: string, from: ConfigRef, to: ConfigRef, o: CandidateOptions = {}): ConfigChange[] {
    return diffConfigs(this.resolve(sessionId, from, o), this.resolve(sessionId, to, o));
  }

  private resolve(sessionId: string, ref: ConfigRef, o: CandidateOptions): Config {
    if (typeof ref === 'number') return this.store.commitConfig(ref);
    const c = this.getConfig(sessionId, ref, o);
    return ref === 'candidate' ? checkConfig(c).config : c;
  }

  history(limit = 100): CommitInfo[] {
    return this.store.history(limit);
  }

  runningCommit(): number | null {
    return this.store.runningId();
  }

  pendingConfirm(): PendingConfirm | undefined {
    return this.store.pending();
  }

  // ---- commit operations ------------------------------------------------

  /** Commits the candidate. Refused when it was based on an older running commit (STALE_CANDIDATE). */
  commit(sessionId: string, o: CommitOptions = {}): Promise<CommitResult> {
    const s = this.session(sessionId);
    if (o.noWait && this.busy) return Promise.reject(new VcnError('COMMIT_IN_PROGRESS', 'another commit is in progress; try again'));
    return this.serial(async () => {
      const pending = this.store.pending();
      if (pending) {
        throw new VcnError(
          'CONFIRMED_COMMIT_PENDING',
          `confirmed commit ${pending.commitId} by ${pending.user} waits for confirmation until ${new Date(pending.deadline).toISOString()}: confirm or cancel it first`,
        );
      }
      // The shared copy (frozen): validation builds a new tree, and a copy of 100k services is ~50 MB more at the commit's peak.
      const cand = this.candidate(s, { ...o, readonly: true });
      const running = this.store.runningId();
      if (cand.base !== running) {
        throw new VcnError(
          'STALE_CANDIDATE',
          `the candidate was based on commit ${cand.base ?? 'none'} but running is now commit ${running ?? 'none'}: discard it or re-apply the changes on the new running configuration`,
        );
      }
      const confirmed = o.confirmTimeout !== undefined;
      if (confirmed && !(o.confirmTimeout! > 0)) throw new VcnError('CONFIG_INVALID', 'the confirm timeout must be a positive number of seconds');
      const deadline = confirmed ? this.clock.now() + o.confirmTimeout! * 1000 : undefined;
      const result = await this.transact(this.actor(s), cand.config, {
        kind: confirmed ? 'confirmed' : 'commit',
        comment: o.comment,
        parent: running,
        rebase: cand.edited ? [this.candidateName(s, o)] : [],
        pending: confirmed ? { revertTo: running ?? -1, deadline: deadline!, user: s.user, session: s.id } : undefined,
      });
      if (confirmed) {
        const p = this.store.pending()!;
        this.arm(p);
        result.confirmDeadline = p.deadline;
      }
      return result;
    });
  }

  /** Confirms the pending confirmed commit: it stays. */
  confirm(sessionId: string): Promise<PendingConfirm> {
    const s = this.session(sessionId);
    return this.serial(async () => {
      const p = this.store.pending();
      if (!p) throw new VcnError('NO_PENDING_CONFIRM', 'no confirmed commit waits for confirmation');
      this.store.clearPending(this.actor(s), 'confirm');
      this.disarm();
      return p;
    });
  }

  /** Cancels the pending confirmed commit: reverts now, in place. */
  cancelCommit(sessionId: string): Promise<CommitResult> {
    const s = this.session(sessionId);
    return this.serial(async () => {
      const p = this.store.pending();
      if (!p) throw new VcnError('NO_PENDING_CONFIRM', 'no confirmed commit waits for confirmation');
      this.disarm();
      return this.revert(this.actor(s), p, 'cancel-commit');
    });
  }

  /** Makes an earlier commit's configuration running again, as a new commit. */
  rollback(sessionId: string, commitId: number, o: { comment?: string } = {}): Promise<CommitResult> {
    const s = this.session(sessionId);
    return this.serial(async () => {
      const pending = this.store.pending();
      if (pending) throw new VcnError('CONFIRMED_COMMIT_PENDING', `confirmed commit ${pending.commitId} waits for confirmation: confirm or cancel it first`);
      const config = this.store.commitConfig(commitId);
      return this.transact(this.actor(s), config, {
        kind: 'rollback',
        comment: o.comment ?? `rollback to commit ${commitId}`,
        parent: this.store.runningId(),
        audit: `rollback ${commitId}`,
      });
    });
  }

  // ---- provisioning -----------------------------------------------------

  /** The first free address of a service IP pool in the candidate. */
  allocateServiceIp(sessionId: string, pool: string, o: CandidateOptions = {}): string {
    return allocateServiceIp(this.candidate(this.session(sessionId), o).config, pool);
  }

  /** Adds a service built from a package to the candidate. */
  createServiceFromPackage(sessionId: string, req: PackageRequest, o: CandidateOptions = {}): Config {
    return this.editCandidate(sessionId, (c) => instantiatePackage(checkConfig(c).config, req).config, o);
  }

  // ---- health (issue 7) -------------------------------------------------

  /** The health state commits compile with. */
  runtimeState(): RuntimeState {
    return this.runtime;
  }

  /** Sets the health state without a commit: only before start(), which loads the data plane with it. */
  restoreRuntimeState(state: RuntimeState): void {
    this.runtime = state;
  }

  /**
   * ONE commit of the running configuration compiled with another health state
   * (failed devices out of service): every service using a changed device moves
   * to its pool alternate (or back) at once. Candidates based on the old running
   * commit stay valid (the configuration did not change). A refused commit keeps
   * the old state.
   */
  recompute(actor: Actor, state: RuntimeState, t: { kind: 'failover' | 'failback'; comment: string }): Promise<CommitResult> {
    return this.serial(async () => {
      const running = this.store.running();
      const before = this.runtime;
      this.runtime = state;
      try {
        const r = await this.transact(actor, running.config ?? emptyConfig(), { kind: t.kind, comment: t.comment, parent: running.id, audit: t.kind });
        this.store.carryBase(running.id, r.commit.id);
        return r;
      } catch (e) {
        this.runtime = before;
        throw e;
      }
    });
  }

  // ---- internals --------------------------------------------------------

  private serial<T>(op: () => Promise<T>): Promise<T> {
    this.busy++;
    const run = this.queue.then(op, op).finally(() => this.busy--);
    // The queue must not hold the last result: a commit's change list can be the whole configuration.
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Validate, prepare, apply, record. Call only inside serial(). */
  private async transact(
    actor: Actor,
    tree: Config,
    t: { kind: CommitKind; comment?: string; parent: number | null; rebase?: string[]; pending?: Omit<PendingConfirm, 'commitId'> | null; audit?: string; full?: boolean },
  ): Promise<CommitResult> {
    const t0 = performance.now();
    // Secrets are protected here too, for configurations that reach a commit without a candidate (startup at boot);
    // they live under system, so only that part is copied before it is changed.
    const { config, issues } = checkConfig(tree.system === undefined ? tree : protectSecrets({ ...tree, system: unsharedCopy(tree.system) }));
    if (issues.length) throw new VcnError('CONFIG_INVALID', `the configuration has ${issues.length} error(s); nothing was changed`, issues);
    const before = this.store.running({ readonly: true }).config;
    const changes = diffConfigs(before ?? emptyConfig(), config);
    const t1 = performance.now();
    const change = await this.dataplane.prepare(config, { full: t.full, check: t.full ? false : undefined, state: this.runtime });
    const t2 = performance.now();
    const apply = await this.dataplane.apply(change, { full: t.full });
    const t3 = performance.now();
    let commit: CommitInfo;
    try {
      commit = this.store.recordCommit({ actor, comment: t.comment, kind: t.kind, config, parent: t.parent, rebase: t.rebase, pending: t.pending, audit: t.audit });
    } catch (e) {
      // The kernel has the new ruleset but the store could not record it: put the old one back.
      this.log(`commit: the store refused the commit after the kernel took it (${(e as Error).message}); restoring the previous ruleset`);
      try {
        await this.dataplane.apply(await this.dataplane.prepare(before ?? emptyConfig(), { full: true, check: false, state: this.runtime }), { full: true });
      } catch (e2) {
        this.log(`commit: restoring the previous ruleset failed too (${(e2 as Error).message}); a restart reloads it from the store`);
      }
      throw e;
    }
    const t4 = performance.now();
    this.log(`commit ${commit.id} (${t.kind}) by ${actor.user}/${actor.client}: ${changes.length} change(s), ${apply.mode} apply`);
    return {
      commit,
      changes,
      apply,
      timings: { validate: t1 - t0, prepare: change.prepareMs, check: change.checkMs, apply: t3 - t2, store: t4 - t3, total: t4 - t0 },
    };
  }

  private async revert(actor: Actor, p: PendingConfirm, why: string): Promise<CommitResult> {
    const config = p.revertTo < 0 ? emptyConfig() : this.store.commitConfig(p.revertTo);
    const result = await this.transact(actor, config, {
      kind: 'revert',
      comment: `${why}: confirmed commit ${p.commitId} reverted to commit ${p.revertTo}`,
      parent: this.store.runningId(),
      pending: null,
      audit: why,
    });
    this.store.event('revert', String(p.commitId), { to: p.revertTo, commit: result.commit.id, why });
    return result;
  }

  private arm(p: PendingConfirm): void {
    this.disarm();
    if (this.stopped) return;
    const ms = Math.max(0, p.deadline - this.clock.now());
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      void this.serial(async () => {
        const cur = this.store.pending();
        if (!cur || cur.commitId !== p.commitId) return; // confirmed or cancelled meanwhile
        try {
          await this.revert(SYSTEM, cur, 'confirm-timeout');
        } catch (e) {
          this.log(`confirmed commit ${cur.commitId}: the automatic revert failed (${(e as Error).message}); retrying`);
          this.store.event('revert-failed', String(cur.commitId), { error: (e as Error).message });
          if (!this.stopped) this.arm({ ...cur, deadline: this.clock.now() + this.revertRetryMs });
        }
      });
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every queued operation (including a fired revert) has finished. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }
}
