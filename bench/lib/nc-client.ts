/**
 * A small NETCONF client for benchmarks and tests: over the daemon's unix
 * socket or over SSH (ssh2 Client, subsystem netconf), hello with base:1.1,
 * then one rpc at a time, replies deframed with the server's own Deframer.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { Deframer, frame } from '../../mgmt/netconf/framing.js';

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const HELLO = `<hello xmlns="${NC_BASE}"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>`;

export class NcClient {
  private readonly deframer = new Deframer(2 ** 31);
  private waiting: ((reply: string) => void)[] = [];
  private closedWith?: Error;
  private nextId = 1;
  /** Bytes received, framing included. */
  bytesIn = 0;
  sessionId = 0;

  private constructor(
    private readonly stream: Duplex,
    private readonly onClose: () => void,
  ) {}

  private start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let helloDone = false;
      const fail = (e: Error) => {
        this.closedWith ??= e;
        for (const w of this.waiting.splice(0)) w('');
        if (!helloDone) reject(e);
      };
      this.stream.on('error', fail);
      this.stream.on('close', () => fail(new Error('the session closed')));
      this.stream.on('data', (b: Buffer) => {
        this.bytesIn += b.length;
        try {
          this.deframer.push(b);
          for (let m = this.deframer.next(); m !== undefined; m = this.deframer.next()) {
            if (!helloDone) {
              helloDone = true;
              this.sessionId = Number(/<session-id>(\d+)</.exec(m)?.[1] ?? 0);
              this.stream.write(frame(HELLO, false));
              this.deframer.useChunked();
              resolve();
              continue;
            }
            if (/^\s*<(\w+:)?notification[\s>]/.test(m)) continue;
            this.waiting.shift()?.(m);
          }
        } catch (e) {
          fail(e as Error);
          this.stream.destroy();
        }
      });
    });
  }

  static async unix(path: string): Promise<NcClient> {
    const sock = connect(path);
    const c = new NcClient(sock, () => sock.destroy());
    await c.start();
    return c;
  }

  static async ssh(o: { host: string; port: number; username: string; password?: string; privateKey?: string }): Promise<NcClient> {
    const conn = new ssh2.Client();
    const channel = await new Promise<Duplex>((resolve, reject) => {
      conn.on('error', reject);
      conn.on('ready', () => conn.subsys('netconf', (e, ch) => (e ? reject(e) : resolve(ch))));
      conn.connect({ host: o.host, port: o.port, username: o.username, password: o.password, privateKey: o.privateKey, readyTimeout: 20_000 });
    });
    const c = new NcClient(channel, () => conn.end());
    await c.start();
    return c;
  }

  /** Sends `<rpc>` around the body; resolves with the whole reply text (rejects when the session ends first). */
  rpc(body: string): Promise<string> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => (r === '' && this.closedWith ? reject(this.closedWith) : resolve(r)));
      this.stream.write(frame(`<rpc message-id="${id}" xmlns="${NC_BASE}">${body}</rpc>`, true));
    });
  }

  /** Sends any message (framed, not wrapped in an rpc); resolves with the next reply. */
  send(message: string): Promise<string> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => (r === '' && this.closedWith ? reject(this.closedWith) : resolve(r)));
      this.stream.write(frame(message, true));
    });
  }

  /** Sends raw bytes (for fuzzing). */
  raw(b: Buffer | string): void {
    if (!this.closedWith) this.stream.write(b);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  close(): void {
    this.onClose();
  }
}

/** get-config of a datastore's content, or the rpc-error text. */
export const GET_CONFIG = (source = 'running') => `<get-config><source><${source}/></source></get-config>`;
