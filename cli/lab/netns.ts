/**
 * The only place the lab runs commands. Everything has a timeout, and every
 * background process is known by its PID so it can be killed by PID.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runProcess } from '../../appliance/run-process.js';
import { readdir, stat } from 'node:fs/promises';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Bytes written to stdin, which is then closed. */
  input?: string | Buffer;
  /** Milliseconds before the command gets SIGKILL; 15 s by default. */
  timeoutMs?: number;
  /** Do not throw when the command fails. */
  allowFail?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const why = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
    const err = result.stderr.trim() || result.stdout.trim();
    super(`${argv.join(' ')}: ${why}${err ? `: ${err.slice(0, 2000)}` : ''}`);
    this.name = 'CommandError';
  }
}

export const DEFAULT_TIMEOUT_MS = 15_000;

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  let r;
  try {
    r = await runProcess(argv, { input: opts.input, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  } catch (e) {
    throw new Error(`${argv.join(' ')}: ${(e as Error).message}`);
  }
  const result: RunResult = { ...r, stdout: r.stdout.toString() };
  if (!opts.allowFail && (r.code !== 0 || r.timedOut)) throw new CommandError(argv, result);
  return result;
}

export const netnsPath = (ns: string): string => `/run/netns/${ns}`;

/** `ip -batch` stops at the first failing line and names it, so errors stay readable. */
export function ipBatch(
  ns: string | null,
  lines: string[],
  opts: RunOptions & { force?: boolean } = {},
): Promise<RunResult> {
  if (lines.length === 0) return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false });
  const argv = ['ip', ...(ns ? ['-n', ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  return run(argv, { ...opts, input: lines.join('\n') + '\n' });
}

/**
 * Runs a command in the namespace's network stack only. Cheaper than
 * `ip netns exec`, which also remounts /sys and binds /etc/netns files:
 * use it for sysctl and nft, not for programs that read /sys or resolve names.
 */
export function nsenterArgv(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=${netnsPath(ns)}`, '--', ...argv];
}

/** Runs a program the way a user would inside the namespace (own /sys, /etc/netns files). */
export function netnsExecArgv(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

export async function listNetns(): Promise<string[]> {
  try {
    return await readdir('/run/netns');
  } catch {
    return [];
  }
}

/**
 * PIDs of every process whose network namespace is `ns` (what `ip netns pids`
 * prints), found without forking once per namespace.
 */
export async function pidsInNetns(namespaces: string[]): Promise<Map<string, number[]>> {
  const byInode = new Map<string, string>();
  const result = new Map<string, number[]>();
  for (const ns of namespaces) {
    try {
      const s = await stat(netnsPath(ns));
      byInode.set(`${s.dev}:${s.ino}`, ns);
      result.set(ns, []);
    } catch {
      // Already gone: nothing can live in it.
    }
  }
  if (byInode.size === 0) return result;
  const self = String(process.pid);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || entry === self) continue;
    try {
      const s = await stat(`/proc/${entry}/ns/net`);
      const ns = byInode.get(`${s.dev}:${s.ino}`);
      if (ns) result.get(ns)?.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return result;
}

/**
 * True while the process exists and has not exited. A zombie counts as dead:
 * orphans of a crashed owner are reaped by PID 1 whenever it gets to it.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'; // the state field follows the command name
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL whatever is still there after `graceMs`. */
export async function killPids(pids: number[], graceMs = 1000): Promise<void> {
  const live = pids.filter((p) => p > 1 && p !== process.pid && isAlive(p));
  for (const pid of live) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = live;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(isAlive);
  }
  for (const pid of left) signal(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (left.length > 0 && Date.now() < hardDeadline) {
    await sleep(20);
    left = left.filter(isAlive);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** A background process the lab started; `stop()` kills it by PID. */
export interface BackgroundProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(graceMs?: number): Promise<void>;
  /** The last few KB the process wrote (stdout and stderr), for error messages. */
  tail(): string;
}

const TAIL_BYTES = 4096;

export function spawnBackground(argv: string[], opts: { stdinPipe?: boolean } = {}): BackgroundProcess {
  const [cmd, ...args] = argv;
  const child = spawn(cmd, args, { stdio: [opts.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${argv.join(' ')}: could not start`);
  const pid = child.pid;
  child.stdin?.on('error', () => undefined);
  // Always drain both pipes: a full pipe would block the process.
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('latin1')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, sig) => resolve({ code, signal: sig }));
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid,
    child,
    exited,
    tail: () => tail,
    async stop(graceMs = 1000) {
      if (done) return;
      await killPids([pid], graceMs);
      await Promise.race([exited, sleep(200)]);
    },
  };
}

/** Resolves with the first line matching `ready`; rejects on exit or timeout. */
export function waitForLine(
  proc: BackgroundProcess,
  stream: 'stdout' | 'stderr',
  ready: RegExp,
  timeoutMs: number,
  what: string,
): Promise<string> {
  const src = proc.child[stream];
  if (!src) return Promise.reject(new Error(`${what}: no ${stream}`));
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen += b.toString();
      const m = seen.split('\n').find((l) => ready.test(l));
      if (m !== undefined) finish(null, m);
    };
    const timer = setTimeout(() => finish(new Error(`${what}: not ready after ${timeoutMs} ms; output: ${proc.tail().slice(-1000)}`)), timeoutMs);
    const finish = (err: Error | null, line?: string): void => {
      clearTimeout(timer);
      src.off('data', onData);
      if (err) reject(err);
      else resolve(line ?? '');
    };
    src.on('data', onData);
    void proc.exited.then(({ code, signal }) =>
      finish(new Error(`${what}: exited (${signal ?? code}) before it was ready; output: ${proc.tail().slice(-1000)}`)),
    );
  });
}

/**
 * Sends one raw Ethernet frame out of `ifname` (an AF_PACKET socket via socat),
 * so frames can be injected from namespaces that have no IP address.
 */
export async function injectFrame(ns: string, ifname: string, frame: Buffer): Promise<void> {
  // -b: one read of stdin is one frame (a pipe write under 4 KB arrives whole).
  await run(nsenterArgv(ns, ['socat', '-u', '-b', String(Math.max(frame.length, 64)), '-', `INTERFACE:${ifname}`]), {
    input: frame,
    timeoutMs: 5000,
  });
}
