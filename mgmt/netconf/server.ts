/**
 * The NETCONF server: a thin translator from NETCONF sessions onto the
 * Northbound API. It owns the session table (ids, kill-session), the
 * datastore locks, the confirmed-commit owner (persist / persist-id) and the
 * notification fan-out; transports (ssh-server.ts, unix-server.ts) hand it
 * authenticated byte streams.
 */
import type { Duplex } from 'node:stream';
import type { Element } from '@xmldom/xmldom';
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { Northbound } from '../northbound/northbound.js';
import type { Store } from '../store/store.js';
import { commitWatcher, notificationOps, type CommitWatcher } from './notifications.js';
import { OpTable } from './rpc-dispatch.js';
import { rpcError } from './rpc-error.js';
import { NcSession, type SessionHost, type SessionInfo } from './session.js';
import type { User } from './users.js';
import { Users } from './users.js';
import { Access } from './access.js';
import { getOps } from './ops/get.js';
import { editOps } from './ops/edit-config.js';
import { copyOps } from './ops/copy-config.js';
import { lockOps } from './ops/lock.js';
import { sessionOps } from './ops/session-ops.js';
import { commitOps } from './ops/commit.js';
import { vcnOps } from './ops/vcn-rpcs.js';
import { frontendOps } from './ops/frontend-rpcs.js';
import { shareOps } from './ops/share-rpcs.js';
import { monitoringOps } from './monitoring.js';
import { healthOps, type HealthApi } from './ops/health-rpcs.js';

export type DatastoreName = 'running' | 'candidate' | 'startup';

export interface NetconfServerOptions {
  northbound: Northbound;
  store: Store;
  /** For operational data (counters). */
  datapath?: Datapath;
  /** The engine's network namespace, for RPCs that probe devices from its ports. */
  netns?: string;
  log?: (line: string) => void;
  /** Largest message accepted, in bytes (default 16 MiB). */
  maxMessage?: number;
  helloTimeoutMs?: number;
  /** How often commits made elsewhere (TUI, timers) are looked for, for notifications (ms, default 500). */
  watchMs?: number;
}

export interface ConfirmOwner {
  session: number;
  persist?: string;
}

export class NetconfServer implements SessionHost {
  readonly nb: Northbound;
  readonly store: Store;
  /** The bootstrap users (store); the configured ones are read through `access`. */
  readonly users: Users;
  /** Users, roles, allowed sources and login limits from the running configuration. */
  readonly access: Access;
  readonly datapath?: Datapath;
  readonly netns?: string;
  readonly sessions = new Map<number, NcSession>();
  readonly locks = new Map<DatastoreName, NcSession>();
  confirmOwner?: ConfirmOwner;
  /** Health checking, when the daemon runs it (ops/health-rpcs.ts). */
  health?: HealthApi;
  /** Which NETCONF session made a commit (for netconf-config-change), the last few hundred. */
  readonly commitSessions = new Map<number, number>();
  readonly startTime = new Date();
  readonly counters = { inBadHellos: 0, inSessions: 0, droppedSessions: 0 };
  private nextId = 1;
  private readonly opts: Required<Pick<NetconfServerOptions, 'maxMessage' | 'helloTimeoutMs'>>;
  private readonly logFn: (line: string) => void;
  private readonly ops: OpTable;
  private readonly watcher: CommitWatcher;

  constructor(o: NetconfServerOptions) {
    this.nb = o.northbound;
    this.store = o.store;
    this.datapath = o.datapath;
    this.netns = o.netns;
    this.users = new Users(o.store);
    this.access = new Access(o.store, this.users);
    this.logFn = o.log ?? (() => undefined);
    this.opts = { maxMessage: o.maxMessage ?? 16 * 1024 * 1024, helloTimeoutMs: o.helloTimeoutMs ?? 30_000 };
    this.ops = new OpTable().add(...getOps, ...editOps, ...copyOps, ...lockOps, ...sessionOps, ...commitOps, ...vcnOps, ...frontendOps, ...shareOps, ...monitoringOps, ...notificationOps, ...healthOps);
    this.watcher = commitWatcher(this, o.watchMs ?? 500);
  }

  log(line: string): void {
    this.logFn(`netconf: ${line}`);
  }

  /** Starts a session on an authenticated stream. */
  attach(stream: Duplex, user: User, info: SessionInfo): NcSession {
    const s = new NcSession(this.nextId++, user, info, stream, this, this.opts);
    this.sessions.set(s.id, s);
    return s;
  }

  opened(s: NcSession): void {
    this.counters.inSessions++;
    s.nbSession = this.nb.openSession(s.user.name, s.info.client).id;
    this.log(`session ${s.id} opened: ${s.user.name} (${s.user.role}) from ${s.info.source} over ${s.info.transport}`);
  }

  /** A session ended (close-session, kill-session, transport): release what it held. */
  closed(s: NcSession): void {
    this.sessions.delete(s.id);
    if (!s.nbSession) return;
    for (const [ds, holder] of this.locks) {
      if (holder !== s) continue;
      this.locks.delete(ds);
      // RFC 6241 §8.3.5.2: a candidate lock released by the session ending discards the candidate.
      if (ds === 'candidate') this.nb.discardChanges(s.nbSession, { shared: true });
    }
    const owner = this.confirmOwner;
    if (owner && owner.session === s.id && owner.persist === undefined && this.nb.pendingConfirm()) {
      // RFC 6241 §8.4.1: a confirmed commit without persist is cancelled when its session ends.
      this.confirmOwner = undefined;
      const sid = s.nbSession;
      this.nb.cancelCommit(sid).then(
        () => this.nb.closeSession(sid),
        (e: unknown) => {
          this.log(`session ${s.id}: cancelling its confirmed commit failed: ${(e as Error).message}`);
          this.nb.closeSession(sid);
        },
      );
      return;
    }
    this.nb.closeSession(s.nbSession);
  }

  dispatch(session: NcSession, rpc: Element): Promise<string> {
    return this.ops.dispatch(this, session, rpc);
  }

  /** Throws in-use when another session holds a lock on the datastore. */
  checkUnlocked(session: NcSession, ds: DatastoreName): void {
    const holder = this.locks.get(ds);
    if (holder && holder !== session) {
      throw rpcError('in-use', 'NETCONF_LOCKED', `the ${ds} datastore is locked by session ${holder.id}`, { info: `<session-id>${holder.id}</session-id>` });
    }
  }

  /** Sends a notification to every subscribed session. */
  notifyAll(eventXml: string, time?: Date): void {
    for (const s of this.sessions.values()) s.notify(eventXml, time);
  }

  noteCommit(commitId: number, session: NcSession): void {
    this.commitSessions.set(commitId, session.id);
    if (this.commitSessions.size > 500) this.commitSessions.delete(this.commitSessions.keys().next().value!);
  }

  /** Looks for new commits now (tests; after our own commits). */
  poll(): void {
    this.watcher.poll();
  }

  /** Closes every session (the transports stop accepting separately). */
  close(): void {
    this.watcher.stop();
    for (const s of [...this.sessions.values()]) s.close('server stopping');
  }
}
