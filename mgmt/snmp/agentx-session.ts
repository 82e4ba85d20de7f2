/**
 * The AgentX subagent's connection to snmpd (the master agent) over its unix
 * socket: open a session, register the VCN-MIB subtree (checking the
 * response's error, not just that one came), answer Get/GetNext/GetBulk from
 * a MibTree, send notifications. It keeps itself connected: a lost socket,
 * a refused open or registration, a master that closes the session, and a
 * master that stops answering pings (snmpd drops a session for good after a
 * timeout) all end in a fresh connection a second later, so a restarted
 * snmpd is served again within a few seconds.
 */
import { createConnection, type Socket } from 'node:net';
import {
  decodeHeader,
  decodePdu,
  encodeClose,
  encodeNotify,
  encodeOpen,
  encodePing,
  encodeRegister,
  encodeResponse,
  ERR,
  PDU,
  PduSplitter,
  VT,
  AgentxParseError,
  type Oid,
  type Pdu,
  type SearchRange,
  type VarBind,
} from './agentx-pdu.js';
import type { MibTree } from './mib-tree.js';

export interface AgentxOptions {
  /** snmpd's AgentX unix socket. */
  socket: string;
  /** The subtree registered (VCN-MIB). */
  subtree: Oid;
  /** The subagent's identity (Open PDU). */
  id: Oid;
  descr: string;
  /** The tree answering requests; may be rebuilt per request (counters). */
  tree: () => Promise<MibTree>;
  /** Seconds snmpd waits for an answer before it gives up on one request (Open's timeout; default 5). */
  timeoutSeconds?: number;
  /** Delay before reconnecting (ms, default 1000). */
  reconnectMs?: number;
  /** Ping interval of the liveness watchdog (ms, default 2000). */
  pingMs?: number;
  log?: (line: string) => void;
}

export type AgentxState = 'connecting' | 'opening' | 'registered' | 'stopped';

interface Waiter {
  resolve: (p: Pdu) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const REQUEST_TIMEOUT_MS = 3000;
const MAX_QUEUED_NOTIFICATIONS = 100;

export class AgentxSession {
  state: AgentxState = 'connecting';
  /** How many times the subtree was registered (1 + re-registrations after reconnects). */
  registrations = 0;
  private sock: Socket | undefined;
  private sessionId = 0;
  private packetId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly splitter = new PduSplitter();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly queued: VarBind[][] = [];
  private readonly registeredWaiters: (() => void)[] = [];
  private readonly log: (line: string) => void;

  constructor(private readonly o: AgentxOptions) {
    this.log = o.log ?? (() => undefined);
  }

  start(): void {
    this.connect();
  }

  /** Resolves once the subtree is registered (again). */
  registered(): Promise<void> {
    if (this.state === 'registered') return Promise.resolve();
    return new Promise((r) => this.registeredWaiters.push(r));
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRegistered = this.state === 'registered';
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const s = this.sock;
    if (s && wasRegistered) {
      // Close politely (reason 5: shutdown) so snmpd drops the registration now.
      await new Promise<void>((r) => s.write(encodeClose(this.ids(), 5), () => r()));
    }
    s?.destroy();
    this.failWaiters(new Error('AgentX session stopped'));
  }

  /** Sends a notification (sysUpTime is added by snmpd); queued while disconnected. */
  async notify(varbinds: VarBind[]): Promise<void> {
    if (this.state !== 'registered') {
      if (this.queued.length < MAX_QUEUED_NOTIFICATIONS) this.queued.push(varbinds);
      return;
    }
    const r = await this.request((ids) => encodeNotify(ids, varbinds));
    if (r.error) throw new Error(`snmpd refused the notification (AgentX error ${r.error})`);
  }

  // ---- connection lifecycle ----------------------------------------------

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    this.splitter.reset();
    const s = createConnection(this.o.socket);
    this.sock = s;
    s.on('connect', () => void this.open(s));
    s.on('data', (chunk: Buffer) => {
      if (s !== this.sock) return;
      let pdus: Buffer[];
      try {
        pdus = this.splitter.push(chunk);
      } catch (e) {
        this.drop(s, `bad AgentX stream: ${(e as Error).message}`);
        return;
      }
      for (const p of pdus) this.receive(s, p);
    });
    s.on('error', (e) => this.drop(s, e.message));
    s.on('close', () => this.drop(s, 'socket closed'));
  }

  private async open(s: Socket): Promise<void> {
    this.state = 'opening';
    try {
      const opened = await this.request((ids) => encodeOpen(ids, this.o.timeoutSeconds ?? 5, this.o.id, this.o.descr));
      if (opened.error) throw new Error(`open refused (AgentX error ${opened.error})`);
      this.sessionId = opened.sessionId;
      const reg = await this.request((ids) => encodeRegister(ids, this.o.subtree));
      if (reg.error) throw new Error(`registration refused (AgentX error ${reg.error})`);
    } catch (e) {
      this.drop(s, (e as Error).message);
      return;
    }
    if (s !== this.sock || (this.state as AgentxState) === 'stopped') return;
    this.state = 'registered';
    this.registrations++;
    this.log(`agentx: registered ${this.o.subtree.join('.')} (session ${this.sessionId})`);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => void this.ping(s), this.o.pingMs ?? 2000);
    this.pingTimer.unref();
    for (const w of this.registeredWaiters.splice(0)) w();
    for (const vbs of this.queued.splice(0)) void this.notify(vbs).catch((e: Error) => this.log(`agentx: queued notification lost: ${e.message}`));
  }

  private async ping(s: Socket): Promise<void> {
    if (s !== this.sock || this.state !== 'registered') return;
    try {
      const r = await this.request(encodePing);
      if (r.error) throw new Error(`ping answered with AgentX error ${r.error}`);
    } catch (e) {
      this.drop(s, `master does not answer: ${(e as Error).message}`);
    }
  }

  /** Forget this socket and connect again shortly (unless stopped). */
  private drop(s: Socket, why: string): void {
    if (s !== this.sock) return;
    this.sock = undefined;
    s.destroy();
    clearInterval(this.pingTimer);
    this.failWaiters(new Error(why));
    if (this.state === 'stopped') return;
    if (this.state === 'registered') this.log(`agentx: lost the master (${why}); reconnecting`);
    this.state = 'connecting';
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.o.reconnectMs ?? 1000);
    this.reconnectTimer.unref();
  }

  private failWaiters(e: Error): void {
    for (const [, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
  }

  private ids(packetId = this.packetId++): { sessionId: number; transactionId: number; packetId: number } {
    return { sessionId: this.sessionId, transactionId: 0, packetId };
  }

  /** Sends a PDU of ours and waits for snmpd's Response with the same packet id. */
  private request(build: (ids: { sessionId: number; transactionId: number; packetId: number }) => Buffer): Promise<Pdu> {
    const s = this.sock;
    if (!s) return Promise.reject(new Error('not connected'));
    const ids = this.ids();
    return new Promise<Pdu>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(ids.packetId);
        reject(new Error('no response within 3 s'));
      }, REQUEST_TIMEOUT_MS);
      this.waiters.set(ids.packetId, { resolve, reject, timer });
      s.write(build(ids));
    });
  }

  // ---- requests from the master --------------------------------------------

  private receive(s: Socket, raw: Buffer): void {
    let pdu: Pdu;
    try {
      pdu = decodePdu(raw);
    } catch (e) {
      if (!(e instanceof AgentxParseError)) throw e;
      const h = decodeHeader(raw);
      if (h.type !== PDU.response) s.write(encodeResponse(h, ERR.parseError, 0, []));
      return;
    }
    if (pdu.type === PDU.response) {
      const w = this.waiters.get(pdu.packetId);
      if (!w) return;
      this.waiters.delete(pdu.packetId);
      clearTimeout(w.timer);
      if (pdu.error === ERR.notOpen) {
        w.reject(new Error('snmpd says the session is not open'));
        return;
      }
      w.resolve(pdu);
      return;
    }
    switch (pdu.type) {
      case PDU.get:
      case PDU.getNext:
      case PDU.getBulk:
        void this.answer(s, pdu);
        return;
      case PDU.testSet:
        // Read-only MIB: refuse every set at the test phase.
        s.write(encodeResponse(pdu, ERR.notWritable, 1, []));
        return;
      case PDU.commitSet:
      case PDU.undoSet:
        s.write(encodeResponse(pdu, ERR.noError, 0, []));
        return;
      case PDU.cleanupSet:
        return; // no response (RFC 2741 §7.2.4.4)
      case PDU.close:
        this.drop(s, `snmpd closed the session (reason ${pdu.reason})`);
        return;
      default:
        s.write(encodeResponse(pdu, ERR.processingError, 0, []));
    }
  }

  private async answer(s: Socket, pdu: Pdu): Promise<void> {
    let out: Buffer;
    try {
      const tree = await this.o.tree();
      out = encodeResponse(pdu, ERR.noError, 0, answerRequest(tree, pdu));
    } catch (e) {
      this.log(`agentx: request failed: ${(e as Error).message}`);
      out = encodeResponse(pdu, ERR.genErr, 1, []);
    }
    if (s === this.sock && !s.destroyed) s.write(out);
  }
}

/** The varbinds answering a Get, GetNext or GetBulk. Pure. */
export function answerRequest(tree: MibTree, pdu: Pdu): VarBind[] {
  const ranges = pdu.ranges ?? [];
  const next = (r: SearchRange): VarBind => tree.next(r.start, r.include, r.end) ?? { oid: r.start, value: { type: VT.endOfMibView } };
  if (pdu.type === PDU.get) return ranges.map((r) => ({ oid: r.start, value: tree.get(r.start) }));
  if (pdu.type === PDU.getNext) return ranges.map(next);
  const nonRep = Math.min(pdu.nonRepeaters ?? 0, ranges.length);
  const out = ranges.slice(0, nonRep).map(next);
  let cur = ranges.slice(nonRep);
  for (let i = 0; i < (pdu.maxRepetitions ?? 0) && cur.length; i++) {
    const got = cur.map(next);
    out.push(...got);
    if (got.every((vb) => vb.value.type === VT.endOfMibView)) break;
    cur = cur.map((r, j) => ({ start: got[j].oid, include: false, end: r.end }));
  }
  return out;
}
