/**
 * One NETCONF session over any byte stream (an SSH channel or a unix socket):
 * hello exchange, framing, one rpc at a time in arrival order, replies and
 * notifications written as whole messages. A framing error or a broken hello
 * closes this session only; everything else becomes an rpc-error.
 *
 * Resources per session are bounded: the next message is parsed only when the
 * previous rpc has been answered (one request DOM at a time), the transport
 * is paused while requests are waiting and more than PAUSE_AT bytes are
 * buffered, and while the client does not read its replies (the stream needs
 * a drain) no further rpc is started.
 */
import type { Duplex } from 'node:stream';
import type { Element } from '@xmldom/xmldom';
import type { Client } from '../store/store.js';
import { Deframer, frame, FramingError } from './framing.js';
import { BASE_11, readClientHello, serverHello } from './hello.js';
import { rpcErrorXml, toRpcErrors, type RpcErrorSpec } from './rpc-error.js';
import type { User } from './users.js';
import { esc, NS, parseXml, XmlLimitError, XmlSyntaxError } from './xml.js';

/** Buffered input beyond which the transport is paused while an rpc is in progress. */
const PAUSE_AT = 1024 * 1024;

export interface SessionHost {
  /** Handles one rpc; returns the reply body ('' for <ok/>). */
  dispatch(session: NcSession, rpc: Element): Promise<string>;
  opened(session: NcSession): void;
  closed(session: NcSession): void;
  log(line: string): void;
}

export interface SessionInfo {
  transport: 'netconf-ssh' | 'netconf-unix';
  source: string;
  client: Client;
}

export interface Subscription {
  stream: string;
  filter?: Element;
  stopTime?: number;
}

export class NcSession {
  readonly loginTime = new Date();
  readonly stats = { inRpcs: 0, inBadRpcs: 0, outRpcErrors: 0, outNotifications: 0 };
  /** The Northbound session (its audit trail names this NETCONF session). */
  nbSession = '';
  subscription?: Subscription;
  /** Set by close-session: the session closes once its reply is out. */
  closeAfterReply = false;
  private state: 'hello' | 'open' | 'closed' = 'hello';
  private readonly deframer: Deframer;
  /** An rpc is being processed (or its reply waits for the client to read). */
  private busy = false;
  private paused = false;
  private current: Promise<void> = Promise.resolve();
  private helloTimer?: NodeJS.Timeout;

  constructor(
    readonly id: number,
    readonly user: User,
    readonly info: SessionInfo,
    private readonly stream: Duplex,
    private readonly host: SessionHost,
    opts: { maxMessage: number; helloTimeoutMs: number },
  ) {
    this.deframer = new Deframer(opts.maxMessage);
    stream.on('data', (b: Buffer) => this.onData(b));
    stream.on('error', () => this.close('transport error'));
    stream.on('close', () => this.close('transport closed'));
    stream.on('end', () => this.close('transport ended'));
    this.send(serverHello(id), false);
    this.helloTimer = setTimeout(() => this.close('no hello in time'), opts.helloTimeoutMs);
    this.helloTimer.unref();
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  get chunked(): boolean {
    return this.deframer.isChunked;
  }

  private onData(b: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.deframer.push(b);
    } catch (e) {
      return this.onError(e);
    }
    this.pump();
  }

  /** Handles complete messages until an rpc is in progress; pauses or resumes the transport. */
  private pump(): void {
    try {
      while (!this.busy && this.isOpen) {
        const m = this.deframer.next();
        if (m === undefined) break;
        this.onMessage(m);
      }
    } catch (e) {
      return this.onError(e);
    }
    if (!this.isOpen) return;
    if (this.busy && !this.paused && this.deframer.buffered > PAUSE_AT) {
      this.paused = true;
      this.stream.pause();
    } else if (!this.busy && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  private onError(e: unknown): void {
    if (e instanceof FramingError) {
      this.host.log(`session ${this.id}: framing error (${e.message}); closing it`);
      if (e.kind === 'too-big' && this.state === 'open') {
        this.sendError([{ type: 'rpc', tag: 'too-big', appTag: 'NETCONF_TOO_BIG', message: e.message }]);
      }
      this.close(`framing: ${e.message}`);
    } else {
      this.host.log(`session ${this.id}: ${(e as Error)?.stack ?? String(e)}`);
      this.close('internal error');
    }
  }

  private onMessage(text: string): void {
    let root: Element;
    try {
      root = parseXml(text).documentElement as unknown as Element;
    } catch (e) {
      if (this.state === 'hello') return this.close(`bad hello: ${(e as Error).message}`);
      this.stats.inBadRpcs++;
      if (e instanceof XmlLimitError) {
        this.sendError([{ type: 'rpc', tag: 'too-big', appTag: 'NETCONF_TOO_BIG', message: `the message is too large to process: ${e.message}` }]);
        return;
      }
      this.sendError([{ type: 'rpc', tag: 'malformed-message', appTag: 'NETCONF_MALFORMED', message: `not well-formed XML: ${e instanceof XmlSyntaxError ? e.message : String(e)}` }]);
      return;
    }
    if (this.state === 'hello') {
      const hello = readClientHello(root);
      if ('error' in hello) return this.close(hello.error);
      clearTimeout(this.helloTimer);
      if (hello.capabilities.includes(BASE_11)) this.deframer.useChunked();
      this.state = 'open';
      this.host.opened(this);
      return;
    }
    if (root.localName !== 'rpc' || root.namespaceURI !== NS.base) {
      this.stats.inBadRpcs++;
      const tag = root.localName === 'rpc' ? 'unknown-namespace' : 'malformed-message';
      this.sendError([{ type: 'rpc', tag, appTag: tag === 'unknown-namespace' ? 'NETCONF_UNKNOWN_NAMESPACE' : 'NETCONF_MALFORMED', message: `expected <rpc> in ${NS.base}, got <${root.localName}> in '${root.namespaceURI ?? ''}'` }]);
      return;
    }
    const attrs = replyAttributes(root);
    if (!root.getAttribute('message-id')) {
      this.stats.inBadRpcs++;
      this.reply(attrs, errorsXml(this, [{ type: 'rpc', tag: 'missing-attribute', appTag: 'NETCONF_MISSING_ATTRIBUTE', message: 'the rpc has no message-id', info: '<bad-attribute>message-id</bad-attribute><bad-element>rpc</bad-element>' }]));
      return;
    }
    this.stats.inRpcs++;
    this.busy = true;
    this.current = this.run(root, attrs).then(
      () => this.afterRpc(),
      (e: unknown) => {
        // run() catches what dispatch throws; this is a bug in the reply path: log it, end this session only.
        this.host.log(`session ${this.id}: ${(e as Error)?.stack ?? String(e)}`);
        this.close('internal error');
      },
    );
  }

  private async run(root: Element, attrs: string): Promise<void> {
    if (!this.isOpen) return;
    let body: string;
    try {
      const r = await this.host.dispatch(this, root);
      body = r === '' ? '<ok/>' : r;
    } catch (e) {
      body = errorsXml(this, toRpcErrors(e));
    }
    this.reply(attrs, body);
    if (this.closeAfterReply) this.close('close-session');
  }

  /** The next rpc starts once the client has read the reply (the stream drained). */
  private afterRpc(): void {
    const next = () => {
      this.busy = false;
      this.pump();
    };
    if (this.isOpen && this.stream.writableNeedDrain) this.stream.once('drain', next);
    else next();
  }

  private reply(attrs: string, body: string): void {
    this.send(`<rpc-reply xmlns="${NS.base}"${attrs}>${body}</rpc-reply>`);
  }

  private sendError(errors: RpcErrorSpec[]): void {
    this.reply('', errorsXml(this, errors));
  }

  /** Sends a notification (RFC 5277) when the session subscribed. */
  notify(eventXml: string, time = new Date()): void {
    if (!this.subscription || this.state !== 'open') return;
    this.stats.outNotifications++;
    this.send(`<notification xmlns="${NS.notification}"><eventTime>${time.toISOString()}</eventTime>${eventXml}</notification>`);
  }

  send(message: string, chunked = this.deframer.isChunked): void {
    if (this.state === 'closed' || this.stream.destroyed || !this.stream.writable) return;
    this.stream.write(frame(message, chunked));
  }

  /** Ends the session: releases what it holds (the host does) and closes the transport. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.host.log(`session ${this.id} (${this.user.name}) closed: ${reason}`);
    try {
      if (wasOpen) this.host.closed(this);
    } finally {
      this.stream.end();
      // An SSH channel or socket that does not finish closing is torn down.
      setTimeout(() => this.stream.destroy(), 1000).unref();
    }
  }

  /** Waits for the rpc being processed. */
  drained(): Promise<void> {
    return this.current;
  }
}

function errorsXml(session: NcSession, errors: RpcErrorSpec[]): string {
  session.stats.outRpcErrors++;
  return errors.map(rpcErrorXml).join('');
}

/** The rpc's attributes, echoed on the reply (RFC 6241 §4.2), without the default namespace. */
function replyAttributes(rpc: Element): string {
  let out = '';
  for (let i = 0; i < rpc.attributes.length; i++) {
    const a = rpc.attributes.item(i)!;
    if (a.name === 'xmlns') continue;
    out += ` ${a.name}="${esc(a.value)}"`;
  }
  return out;
}
