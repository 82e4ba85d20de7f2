/**
 * A long-lived python3 co-process inside the engine's namespace, for the
 * kernel work Node cannot do itself (netlink sockets, libnftables): a request
 * costs a pipe round trip instead of starting a process. Requests are
 * <u32 payload length><u32 argument><payload> on its stdin, answered in order
 * by one JSON line each on its stdout. It ends by itself when our end of its
 * stdin closes (EOF), so it never outlives the daemon.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { DatapathError } from './datapath.js';

/**
 * The co-process side of the wire format, for the scripts (which import sys and struct):
 * `inp`, `out`, and `read(n)`, which ends the process at EOF.
 */
export const PY_COPROCESS_IO = `
inp, out = sys.stdin.buffer, sys.stdout
def read(n):
    b = inp.read(n)
    if len(b) < n:
        sys.exit(0)
    return b
`;

export interface CoprocessOptions {
  netns?: string;
  /** Instead of a namespace: a command the interpreter runs under, e.g. `unshare --net --` (a namespace of its own). */
  prefix?: string[];
  python?: string;
  timeoutMs?: number;
}

interface Pending {
  resolve: (answer: unknown) => void;
  reject: (e: Error) => void;
}

/** Started on first use and again after it died. */
export class PyCoprocess {
  private child?: ChildProcessWithoutNullStreams;
  private pending: Pending[] = [];
  private buffer = '';
  private failure?: string;

  /** `name` says in errors which co-process failed; `script` runs with `python3 -S -c`. */
  constructor(
    private readonly name: string,
    private readonly script: string,
    private readonly opts: CoprocessOptions = {},
  ) {}

  /** Why it cannot be started (undefined while it can). */
  unavailable(): string | undefined {
    return this.failure;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const py = [this.opts.python ?? 'python3', '-S', '-c', this.script]; // -S: no site scan at start
    const argv = this.opts.netns ? ['nsenter', `--net=/run/netns/${this.opts.netns}`, '--', ...py] : [...(this.opts.prefix ?? []), ...py];
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
          p?.resolve(JSON.parse(line));
        } catch (e) {
          p?.reject(e as Error);
        }
      }
    });
    const fail = (why: string) => {
      this.child = undefined;
      this.buffer = '';
      for (const p of this.pending.splice(0)) p.reject(new DatapathError('NFT_UNAVAILABLE', `${this.name}: ${why}`));
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

  /** An idle co-process must not keep the daemon alive; one with a request under way must (its answer comes through these pipes). */
  private hold(busy: boolean): void {
    const c = this.child;
    if (!c) return;
    const handles = [c, c.stdin, c.stdout, c.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
    for (const h of handles) (busy ? h.ref : h.unref)?.call(h);
  }

  /** One request; resolves with its parsed answer line. A co-process that gives none in time is ended. */
  request(payload: Buffer, argument: number): Promise<unknown> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      const timeoutMs = this.opts.timeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        this.close();
        reject(new DatapathError('NFT_TIMEOUT', `${this.name} gave no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const settle = () => {
        clearTimeout(timer);
        if (!this.pending.length) this.hold(false);
      };
      this.pending.push({
        resolve: (a) => {
          settle();
          resolve(a);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      this.hold(true);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(payload.length, 0);
      head.writeUInt32LE(argument, 4);
      child.stdin.write(Buffer.concat([head, payload]));
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
