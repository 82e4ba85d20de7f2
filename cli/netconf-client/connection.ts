/**
 * A NETCONF session over a unix socket (RFC 6242 framing without SSH): the
 * hello exchange (base:1.0 end-of-message framing, then chunked framing once
 * both sides advertise base:1.1), rpcs with increasing message-ids matched to
 * their replies, and notifications handed to a listener.
 */
import { connect, type Socket } from 'node:net';
import type { Element } from '@xmldom/xmldom';
import { Deframer, frame } from '../../mgmt/netconf/framing.js';
import { children, NS, parseXml, text } from '../../mgmt/netconf/xml.js';
import { NetconfConnectError, NetconfRpcError, type RpcErrorInfo } from './errors.js';

const BASE_10 = 'urn:ietf:params:netconf:base:1.0';
const BASE_11 = 'urn:ietf:params:netconf:base:1.1';

export interface ConnectOptions {
  socket: string;
  /** Milliseconds to wait for the connection and the server's hello (default 10 s). */
  timeoutMs?: number;
  /** Milliseconds to wait for one rpc reply (default 120 s: a commit on a big table takes a while). */
  rpcTimeoutMs?: number;
}

interface Pending {
  resolve(reply: Element): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class NetconfConnection {
  sessionId = 0;
  serverCapabilities: string[] = [];
  /** Called with each <notification> element received. */
  onNotification?: (n: Element) => void;
  /** Called once when the session ends for any reason other than close(). */
  onClose?: (reason: string) => void;
  private readonly deframer = new Deframer(64 * 1024 * 1024);
  private chunked = false;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    private readonly rpcTimeoutMs: number,
  ) {}

  static open(o: ConnectOptions): Promise<NetconfConnection> {
    return new Promise((resolve, reject) => {
      const sock = connect(o.socket);
      const c = new NetconfConnection(sock, o.rpcTimeoutMs ?? 120_000);
      let helloDone = false;
      const fail = (e: Error) => {
        if (helloDone) return;
        helloDone = true;
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new NetconfConnectError(`no NETCONF hello from ${o.socket} within ${o.timeoutMs ?? 10_000} ms`)), o.timeoutMs ?? 10_000);
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (!helloDone) fail(new NetconfConnectError(`cannot connect to the daemon at ${o.socket}: ${e.code ?? e.message}`));
        else c.end(`socket error: ${e.message}`);
      });
      sock.on('close', () => {
        if (!helloDone) fail(new NetconfConnectError(`the daemon at ${o.socket} closed the connection before its hello`));
        else c.end('the daemon closed the session');
      });
      sock.on('data', (b: Buffer) => {
        try {
          c.deframer.push(b);
          for (let m = c.deframer.next(); m !== undefined; m = c.deframer.next()) {
            if (!helloDone) {
              c.readHello(m);
              helloDone = true;
              clearTimeout(timer);
              resolve(c);
            } else c.onMessage(m);
          }
        } catch (e) {
          if (!helloDone) fail(e instanceof NetconfConnectError ? e : new NetconfConnectError(`bad hello: ${(e as Error).message}`));
          else c.end(`protocol error: ${(e as Error).message}`);
        }
      });
    });
  }

  private readHello(m: string): void {
    const root = parseXml(m).documentElement as unknown as Element;
    if (root.localName !== 'hello' || root.namespaceURI !== NS.base) throw new NetconfConnectError(`expected a hello, got <${root.localName}>`);
    const caps = children(root).find((e) => e.localName === 'capabilities');
    this.serverCapabilities = caps ? children(caps).map(text) : [];
    const sid = children(root).find((e) => e.localName === 'session-id');
    this.sessionId = sid ? Number(text(sid)) : 0;
    const ours = [BASE_10, BASE_11].map((c) => `<capability>${c}</capability>`).join('');
    this.sock.write(frame(`<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${NS.base}"><capabilities>${ours}</capabilities></hello>`, false));
    if (this.serverCapabilities.includes(BASE_11)) {
      this.chunked = true;
      this.deframer.useChunked();
    }
  }

  private onMessage(m: string): void {
    const root = parseXml(m).documentElement as unknown as Element;
    if (root.localName === 'notification') {
      this.onNotification?.(root);
      return;
    }
    if (root.localName !== 'rpc-reply') return;
    const id = root.getAttribute('message-id') ?? '';
    const p = this.pending.get(id) ?? (id === '' && this.pending.size === 1 ? [...this.pending.values()][0] : undefined);
    if (!p) return;
    this.pending.delete(id === '' ? [...this.pending.keys()][0] : id);
    clearTimeout(p.timer);
    const real = children(root)
      .filter((e) => e.localName === 'rpc-error')
      .map(readRpcError)
      .filter((e) => e.severity !== 'warning');
    if (real.length) p.reject(new NetconfRpcError(real));
    else p.resolve(root);
  }

  /** Sends one operation (XML of the element inside <rpc>); resolves to the <rpc-reply>. */
  rpc(operationXml: string): Promise<Element> {
    if (this.closed) return Promise.reject(new NetconfConnectError('the NETCONF session is closed'));
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NetconfConnectError(`no reply to rpc ${id} within ${this.rpcTimeoutMs} ms`, 'NETCONF_TIMEOUT'));
      }, this.rpcTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.sock.write(frame(`<rpc xmlns="${NS.base}" message-id="${id}">${operationXml}</rpc>`, this.chunked));
    });
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NetconfConnectError(`the NETCONF session ended: ${reason}`));
    }
    this.pending.clear();
    this.sock.destroy();
    this.onClose?.(reason);
  }

  /** close-session, then the socket (best effort: the daemon may already be gone). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await Promise.race([this.rpc('<close-session/>'), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // The session is going away anyway.
    }
    this.closed = true;
    this.sock.destroy();
  }
}

function readRpcError(el: Element): RpcErrorInfo {
  const get = (n: string) => {
    const c = children(el).find((x) => x.localName === n);
    return c ? text(c) : undefined;
  };
  return {
    type: get('error-type') ?? 'application',
    tag: get('error-tag') ?? 'operation-failed',
    severity: get('error-severity') ?? 'error',
    appTag: get('error-app-tag'),
    path: get('error-path'),
    message: get('error-message') ?? '',
  };
}
