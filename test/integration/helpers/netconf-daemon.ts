/**
 * A daemon with the NETCONF server on an ephemeral loopback port and a unix
 * socket, over the dry datapath (no kernel needed), and a runner for the
 * ncclient scripts in ../ncclient (Debian's python3-ncclient, /usr/bin/python3).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../appliance/model/config.generated.js';
import { DryDriver } from '../../../appliance/datapath/dry-driver.js';
import { startDaemon, type Daemon } from '../../../mgmt/daemon.js';

export const MACS = { e0: '02:ee:00:00:00:01', e1: '02:ee:00:00:00:02', e2: '02:ee:00:00:00:03', e3: '02:ee:00:00:00:04' };
export const ADMIN_PASSWORD = 'admin-secret';
const SCRIPTS = join(import.meta.dirname, '..', 'ncclient');

/**
 * Login users for system/login/user (clear text here: the daemon stores the
 * hash). Until a configuration with users is committed, only the bootstrap
 * admin (store) with ADMIN_PASSWORD logs on.
 */
export function loginUsers(): Config['system']['login']['user'] {
  return [
    { name: 'admin', class: 'admin', password: ADMIN_PASSWORD, 'ssh-key': [] },
    { name: 'oper', class: 'operator', password: 'oper-pw', 'ssh-key': [] },
    { name: 'acme', class: 'customer', customer: 'acme', password: 'acme-pw', 'ssh-key': [] },
  ];
}

export interface NcDaemon {
  daemon: Daemon;
  port: number;
  socket: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startNcDaemon(opts: { maxMessage?: number } = {}): Promise<NcDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'vcn-nc-'));
  const socket = join(dir, 'netconf.sock');
  const daemon = await startDaemon({
    db: join(dir, 'vcn.db'),
    datapath: new DryDriver(),
    facts: async () => ({ interfaceMacs: MACS }),
    log: () => undefined,
    netconf: { ssh: { port: 0, host: '127.0.0.1' }, unix: socket, adminPassword: ADMIN_PASSWORD, maxMessage: opts.maxMessage },
  });
  const nc = daemon.netconf!;
  return {
    daemon,
    port: nc.ssh!.port,
    socket,
    dir,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs test/integration/ncclient/<script>.py with a JSON argument; resolves to the JSON it prints. */
export function runNc<T = Record<string, unknown>>(script: string, args: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [join(SCRIPTS, `${script}.py`), JSON.stringify(args)], { timeout: timeoutMs, cwd: SCRIPTS }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script}.py: ${err?.message ?? 'no JSON'}\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}
