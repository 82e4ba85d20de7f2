/**
 * Packet capture: tcpdump writes pcap to our pipe (no files, so no permission
 * or AppArmor trouble), and we decode the frames ourselves.
 */
import { nsenterArgv, spawnBackground, waitForLine } from './netns.js';
import type { BackgroundProcess } from './netns.js';
import { parseFrame } from './frames.js';
import type { ParsedPacket } from './frames.js';

export interface CaptureOptions {
  /** Which direction to record (tcpdump -Q); both by default. */
  direction?: 'in' | 'out' | 'inout';
  /** A pcap filter expression, e.g. 'udp port 9'. */
  filter?: string;
  /** Bytes kept per frame; 256 keeps every header and some payload. */
  snaplen?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** How many matching packets to wait for (1 by default). */
  count?: number;
}

export class Capture {
  private readonly list: ParsedPacket[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private headerSeen = false;
  private nanos = false;
  private littleEndian = true;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly ns: string,
    readonly ifname: string,
    private readonly proc: BackgroundProcess,
  ) {
    proc.child.stdout?.on('data', (b: Buffer) => this.feed(b));
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The tcpdump process (for PID bookkeeping). */
  get process(): BackgroundProcess {
    return this.proc;
  }

  static async start(ns: string, ifname: string, opts: CaptureOptions = {}): Promise<Capture> {
    const argv = [
      'tcpdump',
      '-i',
      ifname,
      '-n',
      '-U',
      '--immediate-mode',
      '-Z',
      'root',
      '-s',
      String(opts.snaplen ?? 256),
      '-Q',
      opts.direction ?? 'inout',
      '-w',
      '-',
      ...(opts.filter ? [opts.filter] : []),
    ];
    const proc = spawnBackground(nsenterArgv(ns, argv));
    const cap = new Capture(ns, ifname, proc);
    try {
      await waitForLine(proc, 'stderr', /listening on/, 10_000, `tcpdump on ${ns}/${ifname}`);
    } catch (e) {
      await proc.stop();
      throw e;
    }
    return cap;
  }

  /** Every packet recorded so far, oldest first. */
  packets(): ParsedPacket[] {
    return [...this.list];
  }

  clear(): void {
    this.list.length = 0;
  }

  /** Resolves with the first `count` recorded packets that match, waiting for them to arrive. */
  waitFor(match: (p: ParsedPacket) => boolean, opts: WaitOptions = {}): Promise<ParsedPacket[]> {
    const count = opts.count ?? 1;
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hits = this.list.filter(match);
        if (hits.length < count) return false;
        done();
        resolve(hits.slice(0, count));
        return true;
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.list.length;
        reject(new Error(`capture ${this.ns}/${this.ifname}: ${this.list.filter(match).length}/${count} matching packets after ${timeoutMs} ms (${seen} recorded)`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(onPacket);
      };
      const onPacket = (): void => void check();
      if (!check()) this.waiters.add(onPacket);
    });
  }

  /** Stops tcpdump (by PID) and returns what it recorded. */
  async stop(): Promise<ParsedPacket[]> {
    await this.proc.stop();
    return this.packets();
  }

  private feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.headerSeen) {
      if (this.buf.length < 24) return;
      const magic = this.buf.readUInt32LE(0);
      this.littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
      const m = this.littleEndian ? magic : this.buf.readUInt32BE(0);
      this.nanos = m === 0xa1b23c4d;
      this.headerSeen = true;
      this.buf = this.buf.subarray(24);
    }
    let added = false;
    while (this.buf.length >= 16) {
      const rd = (o: number): number => (this.littleEndian ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o));
      const incl = rd(8);
      if (this.buf.length < 16 + incl) break;
      const time = rd(0) + rd(4) / (this.nanos ? 1e9 : 1e6);
      const frame = Buffer.from(this.buf.subarray(16, 16 + incl));
      this.list.push(parseFrame(frame, time, rd(12)));
      this.buf = this.buf.subarray(16 + incl);
      added = true;
    }
    if (added) for (const w of [...this.waiters]) w();
  }
}
