/**
 * The L2 prober: one long-lived python3 co-process (probe.py) inside the
 * engine's network namespace, started on first use and again after it died.
 * It sends hand-built frames out of engine interfaces and matches replies
 * seen by AF_PACKET taps, which run before the netdev ingress hook: the
 * engine's namespace has no addresses, so kernel sockets cannot probe from
 * it (see probe.py). Requests and answers are JSON lines matched by id.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface L2Ends {
  srcMac: string;
  dstMac: string;
}

export type ProbeRequest =
  | ({ op: 'tcp'; ifname: string; srcIp: string; dstIp: string; port: number } & L2Ends)
  | ({ op: 'icmp'; ifname: string; srcIp: string; dstIp: string } & L2Ends)
  | ({ op: 'heartbeat'; out: string; in: string } & L2Ends);

export interface ProbeResult {
  ok: boolean;
  /** Response time (microseconds) when ok. */
  us?: number;
  error?: string;
}

const SCRIPT = join(import.meta.dirname, 'probe.py');

export class Prober {
  private child: ChildProcessWithoutNullStreams | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ProbeResult) => void>();

  constructor(private readonly opts: { netns?: string; python?: string; log?: (line: string) => void } = {}) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const py = [this.opts.python ?? 'python3', '-S', SCRIPT];
    const argv = this.opts.netns ? ['nsenter', `--net=/run/netns/${this.opts.netns}`, '--', ...py] : py;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let a: ProbeResult & { id?: number };
      try {
        a = JSON.parse(line) as typeof a;
      } catch {
        return;
      }
      const done = a.id !== undefined ? this.waiting.get(a.id) : undefined;
      if (!done) {
        if (a.error) this.opts.log?.(`prober: ${a.error}`);
        return;
      }
      this.waiting.delete(a.id!);
      done({ ok: a.ok, us: a.us, error: a.error });
    });
    child.stderr.on('data', (b: Buffer) => this.opts.log?.(`prober: ${b.toString().trim()}`));
    child.on('exit', () => {
      // Whatever was in flight is lost with the process: those probes fail (the next one restarts it).
      for (const [id, done] of this.waiting) {
        this.waiting.delete(id);
        done({ ok: false, error: 'the prober process exited' });
      }
    });
    child.stdin.on('error', () => undefined);
    this.child = child;
    return child;
  }

  /** Sends one probe; resolves with its result (never rejects). */
  probe(req: ProbeRequest, timeoutMs: number): Promise<ProbeResult> {
    const child = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      // A guard in case the co-process hangs: its own timeout answers first.
      const guard = setTimeout(() => {
        if (this.waiting.delete(id)) resolve({ ok: false, error: 'timeout (no answer from the prober)' });
      }, timeoutMs + 2000);
      this.waiting.set(id, (r) => {
        clearTimeout(guard);
        resolve(r);
      });
      child.stdin.write(`${JSON.stringify({ id, timeoutMs, ...req })}\n`);
    });
  }

  close(): void {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.pid) {
      c.stdin.end();
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}
