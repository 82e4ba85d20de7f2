/**
 * The real driver: runs nft scripts through libnftables in a co-process
 * (nft-lib.ts) or, without python3-nftables and for big scripts, `nft`
 * (optionally inside a network namespace with `ip netns exec`), the script on
 * stdin, with a timeout. A script the kernel rejects changes nothing (one
 * transaction) and becomes a DatapathError carrying nft's message.
 */
import { existsSync } from 'node:fs';
import { runProcess } from '../run-process.js';
import { DatapathError } from './datapath.js';
import { ScriptDatapath, type NftRunner } from './script-datapath.js';
import { NETLINK_DUMP_PY } from './netlink-counters.js';
import { NETLINK_TABLE_DUMP_PY } from './netlink-table-dump.js';
import type { ElementBatch } from './netlink-batch.js';
import { NetlinkWriter } from './netlink-writer.js';
import { NftLib } from './nft-lib.js';
import { CompileApart } from './compile-apart.js';

export interface NftDriverOptions {
  /** The engine's table in the netdev family (default "vcn"). */
  table?: string;
  /** Run inside this network namespace (`ip netns exec NS nft ...`). */
  netns?: string;
  /** The nft binary (default "nft"). */
  nft?: string;
  /** Milliseconds before a script run is killed (default 300 s: a 100k-service load takes tens of seconds on a small VM). */
  scriptTimeoutMs?: number;
  /** Milliseconds before a query (list, get) is killed (default 120 s). */
  queryTimeoutMs?: number;
  /** Read counters with a netlink dump through python3 (default true; falls back to `nft -j list` on failure). */
  netlinkCounters?: boolean;
  /** The python interpreter for the netlink dump and writer (default Debian's /usr/bin/python3, else "python3" on the PATH). */
  python?: string;
  /** Apply element-only diffs as netlink batches through a python3 co-process (default true; nft when off or unavailable). */
  netlinkElements?: boolean;
  /** Full applies as one netlink transaction (skeleton by nft in a dormant scratch table; default true; nft -f when off or unavailable). */
  netlinkFull?: boolean;
  /**
   * Scripts up to 1 MB through libnftables in a co-process (nft-lib.ts; default true unless `nft` names another
   * binary); the nft process when off or unavailable, and for larger scripts (a process frees their memory at exit).
   */
  nftLib?: boolean;
  /**
   * New chains of a diff compiled by nft in a namespace of its own (compile-apart.ts; default true); in the
   * engine's namespace when off or unavailable (the same chains, slower with many named objects).
   */
  compileApart?: boolean;
}

/** Scripts larger than this go to an nft process: libnftables' memory for them would stay with the co-process. */
const LIB_MAX_SCRIPT = 1 << 20;

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

async function exec(argv: string[], input: string | undefined, timeoutMs: number): Promise<Output> {
  const r = await execBinary(argv, timeoutMs, input);
  return { code: r.code, timedOut: r.timedOut, stdout: r.stdout.toString(), stderr: r.stderr };
}

async function execBinary(
  argv: string[],
  timeoutMs: number,
  input?: string,
  onStdout?: (chunk: Buffer) => void,
): Promise<{ code: number | null; stdout: Buffer; stderr: string; timedOut: boolean }> {
  try {
    return await runProcess(argv, { input, timeoutMs, onStdout });
  } catch (e) {
    throw new DatapathError('NFT_UNAVAILABLE', `cannot run ${argv[0]}: ${(e as Error).message}`, '', argv);
  }
}

/** nft's message, shortened for an error text (the full text stays on the error). */
function excerpt(stderr: string, lines = 12): string {
  const all = stderr.trimEnd().split('\n');
  const shown = all.slice(0, lines).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  return shown.join('\n') + (all.length > lines ? `\n… (${all.length - lines} more lines)` : '');
}

/**
 * Debian's python3 when it is there: the first `python3` on the PATH may be a
 * version manager's shim (pyenv's runs a shell script and takes ~0.7 s to
 * start, against 30 ms), and each counter read and full apply starts one.
 */
export const DEFAULT_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export class NftRunnerProcess implements NftRunner {
  private readonly writer: NetlinkWriter;
  private readonly lib: NftLib | undefined;
  /** Why scripts go to nft processes although the library runner was wanted. */
  libOff?: string;
  /** Compiles new chains in a namespace of its own (compileApart), started on first use. */
  private apart?: CompileApart;

  constructor(private readonly opts: NftDriverOptions = {}) {
    this.writer = new NetlinkWriter({ netns: opts.netns, python: opts.python ?? DEFAULT_PYTHON, timeoutMs: opts.scriptTimeoutMs });
    const wanted = opts.nftLib ?? opts.nft === undefined;
    this.lib = wanted ? new NftLib({ netns: opts.netns, python: opts.python ?? DEFAULT_PYTHON, timeoutMs: opts.scriptTimeoutMs ?? 300_000 }) : undefined;
  }

  async elements(batch: ElementBatch): Promise<[number, number, string][]> {
    if (this.opts.netlinkElements === false) throw new DatapathError('NFT_UNAVAILABLE', 'netlink element writes are off');
    return this.writer.send(batch);
  }

  /** Ends the co-processes (netlink writer, libnftables runner), if they run, and the compile namespace. */
  close(): void {
    this.writer.close();
    this.lib?.close();
    this.apart?.close();
    this.apart = undefined;
  }

  async compileApart(script: string, table: string, interfaces: string): Promise<Buffer> {
    return this.compiler().compile(script, table, interfaces);
  }

  async warmApart(interfaces: string): Promise<void> {
    return this.compiler().warm(interfaces);
  }

  private compiler(): CompileApart {
    // libnftables (python3-nftables) and netlink writes: without them, nothing gained.
    if (this.opts.compileApart === false) throw new DatapathError('NFT_UNAVAILABLE', 'compiling apart is off');
    if (!this.lib || this.libOff || this.opts.netlinkElements === false) throw new DatapathError('NFT_UNAVAILABLE', 'no libnftables runner');
    this.apart ??= new CompileApart({ python: this.opts.python ?? DEFAULT_PYTHON, timeoutMs: this.opts.scriptTimeoutMs });
    return this.apart;
  }

  private argv(args: string[]): string[] {
    const nft = this.opts.nft ?? 'nft';
    return this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, nft, ...args] : [nft, ...args];
  }

  async script(script: string, check: boolean): Promise<void> {
    const what = check ? 'nft -c rejected the ruleset' : 'nft rejected the ruleset; the running one is unchanged';
    if (this.lib && !this.libOff && script.length <= LIB_MAX_SCRIPT) {
      try {
        return await this.lib.script(script, check);
      } catch (e) {
        if (!(e instanceof DatapathError) || e.code === 'NFT_TIMEOUT') throw e;
        if (e.code === 'NFT_REJECTED') throw new DatapathError('NFT_REJECTED', `${what}:\n${excerpt(e.stderr)}`, e.stderr, ['libnftables', check ? '-c' : '-f']);
        // A runner that worked before and died now may have applied the script: not run again; the next one restarts it.
        if (this.lib.answered) throw e;
        // No python3-nftables (or no python3): nft processes from now on.
        this.libOff = e.message;
      }
    }
    const argv = this.argv(check ? ['-c', '-f', '-'] : ['-f', '-']);
    const timeout = this.opts.scriptTimeoutMs ?? 300_000;
    const r = await exec(argv, script, timeout);
    if (r.timedOut) throw new DatapathError('NFT_TIMEOUT', `nft ${check ? 'check' : 'apply'} took longer than ${timeout} ms and was killed`, r.stderr, argv);
    if (r.code !== 0) {
      throw new DatapathError('NFT_REJECTED', `${what} (exit ${r.code}):\n${excerpt(r.stderr)}`, r.stderr, argv);
    }
  }

  async dumpCounters(table: string, sets: string[], sink?: (chunk: Buffer) => void): Promise<Buffer> {
    if (this.opts.netlinkCounters === false) throw new Error('netlink counters are off');
    const py = [this.opts.python ?? DEFAULT_PYTHON, '-S', '-c', NETLINK_DUMP_PY, table, ...sets];
    const argv = this.opts.netns ? ['nsenter', `--net=/run/netns/${this.opts.netns}`, '--', ...py] : py;
    const r = await execBinary(argv, this.opts.queryTimeoutMs ?? 120_000, undefined, sink);
    if (r.code !== 0) throw new DatapathError('NFT_OUTPUT', `netlink counter dump failed (exit ${r.code}): ${excerpt(r.stderr)}`, r.stderr, argv);
    return r.stdout;
  }

  async dumpTable(table: string, opts: { small?: boolean } = {}): Promise<Buffer> {
    if (this.opts.netlinkFull === false || this.opts.netlinkElements === false) throw new DatapathError('NFT_UNAVAILABLE', 'netlink full applies are off');
    // A small table's dump fits an answer line of the writer's co-process: no python started (~50 ms).
    if (opts.small && !this.writer.unavailable()) return this.writer.dumpTable(table);
    const py = [this.opts.python ?? DEFAULT_PYTHON, '-S', '-c', NETLINK_TABLE_DUMP_PY, table];
    const argv = this.opts.netns ? ['nsenter', `--net=/run/netns/${this.opts.netns}`, '--', ...py] : py;
    const r = await execBinary(argv, this.opts.queryTimeoutMs ?? 120_000);
    if (r.code !== 0) throw new DatapathError('NFT_UNAVAILABLE', `netlink table dump failed (exit ${r.code}): ${excerpt(r.stderr)}`, r.stderr, argv);
    return r.stdout;
  }

  async interfaceIndexes(): Promise<string> {
    if (this.opts.netlinkElements !== false && !this.writer.unavailable()) {
      try {
        return await this.writer.interfaceIndexes();
      } catch (e) {
        if (!(e instanceof DatapathError) || e.code !== 'NFT_UNAVAILABLE') throw e;
      }
    }
    const argv = this.opts.netns ? ['ip', '-n', this.opts.netns, '-o', 'link', 'show'] : ['ip', '-o', 'link', 'show'];
    const r = await exec(argv, undefined, this.opts.queryTimeoutMs ?? 120_000);
    if (r.code !== 0) throw new DatapathError('NFT_UNAVAILABLE', `${argv.join(' ')} failed: ${excerpt(r.stderr)}`, r.stderr, argv);
    // "7: e0x@if6: <…" → "7:e0x"
    return r.stdout
      .split('\n')
      .map((l) => /^(\d+): ([^:@\s]+)/.exec(l))
      .filter((m) => m)
      .map((m) => `${m![1]}:${m![2]}`)
      .join(' ');
  }

  async query(args: string[]): Promise<string> {
    const argv = this.argv(args);
    const timeout = this.opts.queryTimeoutMs ?? 120_000;
    const r = await exec(argv, undefined, timeout);
    if (r.timedOut) throw new DatapathError('NFT_TIMEOUT', `nft ${args.join(' ')} took longer than ${timeout} ms and was killed`, r.stderr, argv);
    if (r.code !== 0) throw new DatapathError('NFT_REJECTED', `nft ${args.slice(0, 4).join(' ')} failed (exit ${r.code}):\n${excerpt(r.stderr)}`, r.stderr, argv);
    return r.stdout;
  }
}

/** The datapath of the engine's table, driving the kernel through `nft`. */
export class NftDriver extends ScriptDatapath {
  constructor(readonly options: NftDriverOptions = {}) {
    super(new NftRunnerProcess(options), options.table ?? 'vcn');
  }

  /** Stops helper processes (the netlink writer); the kernel table stays as it is. */
  close(): void {
    (this.runner as NftRunnerProcess).close();
  }
}

/** MAC addresses of interfaces as the kernel has them (`ip -j link show`), for DataplaneFacts.interfaceMacs. */
export async function readInterfaceMacs(netns?: string, timeoutMs = 15_000): Promise<Record<string, string>> {
  const argv = netns ? ['ip', '-n', netns, '-j', 'link', 'show'] : ['ip', '-j', 'link', 'show'];
  const r = await exec(argv, undefined, timeoutMs);
  if (r.code !== 0) throw new DatapathError('NFT_UNAVAILABLE', `${argv.join(' ')} failed: ${excerpt(r.stderr)}`, r.stderr, argv);
  const links = JSON.parse(r.stdout) as { ifname: string; address?: string; link_type?: string }[];
  const macs: Record<string, string> = {};
  for (const l of links) if (l.address && l.link_type === 'ether') macs[l.ifname] = l.address;
  return macs;
}
