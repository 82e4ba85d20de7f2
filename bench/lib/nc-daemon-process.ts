/**
 * The appliance daemon as its own process, as it runs on the appliance:
 * the real nftables data plane in a network namespace made for the run (with
 * engine interfaces named with the run's random tag: veth pairs whose both
 * ends stay in that namespace; this kernel has no dummy driver), NETCONF on a unix
 * socket and on an ephemeral SSH port on loopback. stop() ends the daemon by
 * its PID and deletes what was made, also after a failed start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../appliance/model/config.generated.js';
import { runProcess } from '../../appliance/run-process.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface NcProcess {
  pid: number;
  ns: string;
  socket: string;
  sshPort: number;
  dir: string;
  /** Engine interface names in the namespace, for e0..e3 of scale-config.ts. */
  ifnames: Record<string, string>;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

async function sh(argv: string[]): Promise<void> {
  const r = await runProcess(argv, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
}

/** Renames the engine interfaces of a configuration (e0 → e0<tag> …) in place. */
export function renameInterfaces(config: Config, names: Record<string, string>): Config {
  for (const i of config.interfaces.interface) i.name = names[i.name] ?? i.name;
  for (const d of config.devices.device) for (const l of d.leg) l.interface = names[l.interface] ?? l.interface;
  for (const s of config.services.service) if (s.uplink) s.uplink = names[s.uplink] ?? s.uplink;
  return config;
}

/** `nodeArgs`: extra node flags for the daemon (e.g. a larger young generation). */
export async function startNcProcess(o: { maxMessage?: number; nodeArgs?: string[]; log?: (line: string) => void } = {}): Promise<NcProcess> {
  const tag = randomBytes(3).toString('hex');
  const ns = `vcnnc${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'vcn-ncp-'));
  const socket = join(dir, 'netconf.sock');
  const ifnames = Object.fromEntries(['e0', 'e1', 'e2', 'e3'].map((e) => [e, `${e}n${tag}`]));
  let child: ChildProcess | undefined;
  let stderr = '';
  let exited = false;
  const stop = async () => {
    if (child?.pid && !exited) {
      const gone = new Promise<void>((r) => child!.once('exit', () => r()));
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(child!.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 10_000);
      await gone;
      clearTimeout(t);
    }
    await runProcess(['ip', 'netns', 'del', ns], { timeoutMs: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    for (const name of Object.values(ifnames)) {
      const peer = `p${name.slice(1)}`;
      await sh(['ip', '-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
      await sh(['ip', '-n', ns, 'link', 'set', name, 'up']);
      await sh(['ip', '-n', ns, 'link', 'set', peer, 'up']);
    }
    const args = [...(o.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'mgmt/daemon.ts'), '--db', join(dir, 'vcn.db'), '--netns', ns, '--netconf-socket', socket, '--netconf-port', '0', '--netconf-host', '127.0.0.1'];
    if (o.maxMessage) args.push('--netconf-max-message', String(o.maxMessage));
    child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('exit', () => (exited = true));
    const sshPort = await new Promise<number>((resolve, reject) => {
      let port = 0;
      let unix = false;
      const timer = setTimeout(() => reject(new Error(`the daemon did not start listening: ${stderr}`)), 60_000);
      child!.stderr!.on('data', (b: Buffer) => {
        const text = b.toString();
        stderr += text;
        if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
        for (const line of text.split('\n')) if (line.trim()) o.log?.(line);
        port ||= Number(/listening for NETCONF over SSH on [^\s]+:(\d+)/.exec(stderr)?.[1] ?? 0);
        unix ||= stderr.includes('listening for NETCONF on ');
        if (port && unix) {
          clearTimeout(timer);
          resolve(port);
        }
      });
      child!.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${code}) before listening: ${stderr}`));
      });
    });
    return {
      pid: child.pid!,
      ns,
      socket,
      sshPort,
      dir,
      ifnames,
      stderr: () => stderr,
      alive: () => {
        if (exited) return false;
        try {
          process.kill(child!.pid!, 0);
          return true;
        } catch {
          return false;
        }
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
