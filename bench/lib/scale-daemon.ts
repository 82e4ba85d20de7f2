/**
 * bin/vcnd in a scratch namespace with four veths (e0..e3), driven over its
 * --stdio channel, for the memory benchmarks (store-rss.ts, heap-probe.ts).
 * `close()` stops the daemon (SIGKILL if it is still there) and removes the
 * namespace and the store directory, also after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { scaleConfig } from '../scale-config.js';

const root = join(import.meta.dirname, '..', '..');

/** A /proc/<pid>/status value in MB (VmRSS, VmHWM). */
export const procMb = (pid: number, key: string): number =>
  Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? 0) / 1024;

export interface Reply {
  result?: unknown;
  error?: { message: string };
}

export class ScaleDaemon {
  readonly pid: number;
  private id = 0;
  private readonly lines: AsyncIterator<string>;

  private constructor(
    readonly child: ChildProcess,
    private readonly ns: string,
    private readonly dir: string,
  ) {
    this.pid = child.pid!;
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  /** Starts the daemon and waits for its ready line. `nodeOptions` go to bin/vcnd's node (with --expose-gc). */
  static async start(tag: string, o: { sampleEvery: number; nodeOptions?: string }): Promise<ScaleDaemon> {
    const ns = `vcn${tag}-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'vcn-scale-'));
    execFileSync('ip', ['netns', 'add', ns]);
    let d: ScaleDaemon | undefined;
    try {
      for (let i = 0; i < 4; i++) {
        execFileSync('ip', ['-n', ns, 'link', 'add', `e${i}`, 'type', 'veth', 'peer', 'name', `p${i}`]);
        execFileSync('ip', ['-n', ns, 'link', 'set', `e${i}`, 'up']);
      }
      const env = { ...process.env, VCND_NODE_OPTIONS: `--expose-gc ${o.nodeOptions ?? ''} ${process.env.VCND_NODE_OPTIONS ?? ''}` };
      const child = spawn(join(root, 'bin/vcnd'), ['--db', join(dir, 'vcn.db'), '--netns', ns, '--stdio', '--sample-every', String(o.sampleEvery)], { stdio: ['pipe', 'pipe', 'inherit'], env });
      d = new ScaleDaemon(child, ns, dir);
      await d.next(); // ready
      return d;
    } catch (e) {
      if (d) await d.close();
      else {
        execFileSync('ip', ['netns', 'del', ns]);
        rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  private async next(): Promise<Reply> {
    const line = await this.lines.next();
    // The daemon died (e.g. out of heap: VCND_HEAP_MB too small for the commit); its stderr says why.
    if (line.done) throw new Error(`the daemon (pid ${this.pid}) exited (${this.child.signalCode ?? this.child.exitCode ?? 'closed its output'}) before answering`);
    return JSON.parse(line.value) as Reply;
  }

  /** One request over --stdio; an error reply throws. */
  async call(method: string, params?: unknown[]): Promise<unknown> {
    this.child.stdin!.write(`${JSON.stringify({ id: ++this.id, method, params })}\n`);
    const r = await this.next();
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  }

  /** Sets the candidate to n services and commits it; the commit's result. */
  async commitServices(n: number): Promise<unknown> {
    await this.call('setCandidate', [scaleConfig(n)]);
    return this.call('commit', [{ comment: `${n} services` }]);
  }

  /** The daemon's memory after a full GC (MB). */
  memory(): Promise<{ rss: number; heapUsed: number; heapTotal: number; external: number }> {
    return this.call('memory') as never;
  }

  async close(): Promise<void> {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      const exited = new Promise((res) => c.once('exit', res));
      const late = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(late);
    }
    execFileSync('ip', ['netns', 'del', this.ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
