/**
 * Sends netlink batches (netlink-batch.ts) to the kernel. Node cannot open a
 * netlink socket, so one long-lived python3 process (Debian's, standard
 * library only) holds a NETLINK_NETFILTER socket, inside the engine's
 * namespace, and does the socket I/O: a request costs a pipe round trip
 * instead of starting nft. The process ends by itself when our end of its
 * stdin closes (EOF), so it never outlives the daemon.
 *
 * Wire format on its stdin: <u32 batch length><u32 acks expected><batch>;
 * on its stdout, one JSON line per batch: {"errors": [[seq, errno, text], ...]}.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { DatapathError } from './datapath.js';
import type { ElementBatch } from './netlink-batch.js';

export const NETLINK_WRITER_PY = `
import json, os, socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.setsockopt(270, 10, 1)   # NETLINK_CAP_ACK: acks without the request copied back
try:
    s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK: the kernel's error text
except OSError:
    pass
inp, out = sys.stdin.buffer, sys.stdout
def read(n):
    b = inp.read(n)
    if len(b) < n:
        sys.exit(0)
    return b
def ext_msg(data, off, end):
    while off + 4 <= end:
        n, t = struct.unpack_from('=HH', data, off)
        if n < 4:
            break
        if t & 0x3fff == 1:
            return data[off + 4:off + n].split(b'\\0')[0].decode(errors='replace')
        off += (n + 3) & ~3
    return ''
while True:
    size, expect = struct.unpack('=II', read(8))
    batch = read(size)
    s.setsockopt(socket.SOL_SOCKET, 32, size + 65536)            # SO_SNDBUFFORCE
    s.setsockopt(socket.SOL_SOCKET, 33, max(1 << 20, expect * 1024))  # SO_RCVBUFFORCE: an ack's skb takes ~700 bytes of the buffer
    errors, got = [], 0
    try:
        s.send(batch)
        s.settimeout(60)
        while got < expect:
            data = s.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                n, t, flags = struct.unpack_from('=IHH', data, off)
                if n < 16:
                    break
                if t == 2:
                    err = struct.unpack_from('=i', data, off + 16)[0]
                    seq = struct.unpack_from('=I', data, off + 28)[0]
                    got += 1
                    if err:
                        # With CAP_ACK the request header (16 bytes) follows the errno; TLVs after it when flagged.
                        text = ext_msg(data, off + 36, off + n) if flags & 0x200 else ''
                        errors.append([seq, -err, text or os.strerror(-err)])
                        if seq == 1:
                            got = expect
                off += (n + 3) & ~3
    except OSError as e:
        errors.append([0, e.errno or 0, str(e)])
    out.write(json.dumps({'errors': errors}) + '\\n')
    out.flush()
`;

export interface WriterOptions {
  netns?: string;
  python?: string;
  timeoutMs?: number;
}

interface Pending {
  resolve: (errors: [number, number, string][]) => void;
  reject: (e: Error) => void;
}

/** One python3 co-process per datapath, started on first use and again after it died. */
export class NetlinkWriter {
  private child?: ChildProcessWithoutNullStreams;
  private pending: Pending[] = [];
  private buffer = '';
  private failure?: string;

  constructor(private readonly opts: WriterOptions = {}) {}

  /** Why the writer cannot be used (undefined while it can). */
  unavailable(): string | undefined {
    return this.failure;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const py = [this.opts.python ?? 'python3', '-S', '-c', NETLINK_WRITER_PY]; // -S: the standard library only, no site scan at start
    const argv = this.opts.netns ? ['nsenter', `--net=/run/netns/${this.opts.netns}`, '--', ...py] : py;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        const p = this.pending.shift();
        try {
          p?.resolve((JSON.parse(line) as { errors: [number, number, string][] }).errors);
        } catch (e) {
          p?.reject(e as Error);
        }
      }
    });
    const fail = (why: string) => {
      this.child = undefined;
      this.buffer = '';
      for (const p of this.pending.splice(0)) p.reject(new DatapathError('NFT_UNAVAILABLE', `netlink writer: ${why}`));
    };
    child.on('error', (e) => {
      this.failure = e.message;
      fail(e.message);
    });
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`));
    child.stdin.on('error', () => undefined);
    this.child = child;
    this.hold(false);
    return child;
  }

  /** An idle writer must not keep the process alive; one with a request under way must (its answer comes through these pipes). */
  private hold(busy: boolean): void {
    const c = this.child;
    if (!c) return;
    const handles = [c, c.stdin, c.stdout, c.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
    for (const h of handles) (busy ? h.ref : h.unref)?.call(h);
  }

  /** Sends the batch; resolves with the kernel's errors per message (empty: accepted). */
  send(batch: ElementBatch): Promise<[number, number, string][]> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      const timeoutMs = this.opts.timeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        this.close();
        reject(new DatapathError('NFT_TIMEOUT', `netlink writer gave no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const settle = () => {
        clearTimeout(timer);
        if (!this.pending.length) this.hold(false);
      };
      this.pending.push({
        resolve: (e) => {
          settle();
          resolve(e);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      this.hold(true);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(batch.bytes.length, 0);
      head.writeUInt32LE(batch.messages.length, 4);
      child.stdin.write(Buffer.concat([head, batch.bytes]));
    });
  }

  /** Ends the co-process (closing its stdin is enough; the kill is for a hung one). */
  close(): void {
    const c = this.child;
    this.child = undefined;
    if (!c) return;
    c.stdin.end();
    if (c.pid && c.exitCode === null) setTimeout(() => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'), 2000).unref();
  }
}
