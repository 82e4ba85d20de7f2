/**
 * A minimal network-namespace topology for the datapath tests: namespaces and
 * veth pairs with names unique to the run (random suffix), everything created
 * directly inside the namespaces, processes tracked by PID. cleanup() deletes
 * exactly what this run created (call it from afterAll; it is safe to call
 * after a partial setup and more than once). A run killed before its cleanup
 * (SIGKILL, a crashed worker) leaves a state file under /run/vcn-mini; the
 * next MiniNet in any process tears that run's namespaces down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runProcess } from '../../../appliance/run-process.js';
import { destroy, processStart, sweepDeadOwners, writeState, type LabState } from '../../../cli/lab/state.js';

const STATE_DIR = '/run/vcn-mini';
let swept: Promise<unknown> | undefined;

/** Tear down the namespaces of MiniNet runs whose process died; the namespaces removed. */
export async function sweepDeadRuns(): Promise<string[]> {
  return (await sweepDeadOwners(STATE_DIR)).removed;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], opts: { input?: string; timeoutMs?: number; allowFail?: boolean } = {}): Promise<RunResult> {
  const p = await runProcess(argv, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
  const r = { code: p.code, stdout: p.stdout.toString(), stderr: p.stderr };
  if (p.code !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')}: exit ${p.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

export class MiniNet {
  /** Random tag of this run: namespace names are `vd<tag>-<name>`, interface names end in it. */
  readonly tag = randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly stateFile = `${STATE_DIR}/${this.tag}.json`;
  /** Serialises state-file writes (they share one temporary name per process). */
  private stateWrites: Promise<void> = Promise.resolve();

  /** Record the namespaces before creating them, so a crash of this process leaves enough to tear them down. */
  private async record(): Promise<void> {
    swept ??= sweepDeadRuns();
    await swept;
    const ownerStart = await processStart(process.pid);
    const state: LabState = {
      prefix: `vd${this.tag}`,
      ownerPid: process.pid,
      ownerStart: ownerStart ?? '',
      namespaces: [...this.namespaces],
      pids: [],
      etcDirs: [],
      workDir: `${STATE_DIR}/${this.tag}.work`,
      stateFile: this.stateFile,
      createdAt: new Date().toISOString(),
    };
    this.stateWrites = this.stateWrites.then(() => writeState(state));
    await this.stateWrites;
  }

  /** The full namespace name of a short name. */
  ns(name: string): string {
    return `vd${this.tag}-${name}`;
  }

  /** An interface name unique to the run: `<base><tag>` (base at most 9 characters: 15 in all). */
  ifname(base: string): string {
    if (base.length > 9) throw new Error(`interface base name ${base} is longer than 9 characters`);
    return `${base}${this.tag}`;
  }

  /** Create a namespace: loopback up, IPv6 off (no neighbour discovery or MLD noise in the counters). */
  async addNs(name: string, opts: { ipv6?: boolean } = {}): Promise<string> {
    const ns = this.ns(name);
    this.namespaces.push(ns);
    await this.record();
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    if (!opts.ipv6) await this.sh(ns, 'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1');
    return ns;
  }

  /** A veth pair made directly inside two namespaces (never visible in the root namespace), both ends up. */
  async veth(a: { ns: string; name: string; mac: string }, b: { ns: string; name: string; mac: string }): Promise<void> {
    await run(['ip', 'link', 'add', a.name, 'address', a.mac, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'address', b.mac, 'netns', b.ns]);
    await run(['ip', '-n', a.ns, 'link', 'set', a.name, 'up']);
    await run(['ip', '-n', b.ns, 'link', 'set', b.name, 'up']);
  }

  /** Run a shell command line inside a namespace (network namespace only). */
  sh(ns: string, line: string, opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run(['nsenter', `--net=/run/netns/${ns}`, '--', 'sh', '-c', line], opts);
  }

  /** Run a program inside a namespace. */
  exec(ns: string, argv: string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv], opts);
  }

  /** Start a background program inside a namespace; stopped by PID in cleanup(). */
  start(ns: string, argv: string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** Wait until a background program prints a line matching `re` on stdout. */
  waitFor(child: ChildProcess, re: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} (got: ${buf.slice(-500)})`)), timeoutMs);
      child.stdout?.on('data', (b: Buffer) => {
        buf += b.toString();
        const m = re.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before printing ${re}: ${buf.slice(-500)}`));
      });
    });
  }

  /** Stop what this run started (by PID), then delete its namespaces (their veths go with them). */
  async cleanup(): Promise<void> {
    for (const c of this.children.splice(0)) {
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const namespaces = this.namespaces.splice(0).reverse();
    await this.stateWrites.catch(() => undefined);
    // destroy() also kills anything still running inside them (by PID) and removes the state file last.
    await destroy({ namespaces, etcDirs: [], workDir: `${STATE_DIR}/${this.tag}.work`, stateFile: this.stateFile });
  }
}
