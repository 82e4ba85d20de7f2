/**
 * Debian's snmpd run by the daemon as a child process: `snmpd -f -C -c
 * <dir>/snmpd.conf` (foreground, no host configuration files), optionally
 * inside the engine's network namespace, with its persistent state
 * (engineBoots) in <dir>/persist instead of /var/lib/snmp. Stopped by its
 * PID only. The host's /etc/snmp and its snmpd service are never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VcnError } from '../../appliance/errors.js';

export interface SnmpdOptions {
  dir: string;
  netns?: string;
  log?: (line: string) => void;
}

export class SnmpdProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  readonly conf: string;
  readonly socket: string;
  readonly logFile: string;
  private readonly persist: string;

  constructor(private readonly o: SnmpdOptions) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.conf = join(o.dir, 'snmpd.conf');
    this.socket = join(o.dir, 'agentx.sock');
    this.logFile = join(o.dir, 'snmpd.log');
    this.persist = join(o.dir, 'persist');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes the configuration and starts snmpd; resolves once its AgentX socket exists. */
  async start(conf: string): Promise<void> {
    if (this.running()) await this.stop();
    writeFileSync(this.conf, conf, { mode: 0o600 });
    this.keepOnlyBoots();
    rmSync(this.socket, { force: true });
    const args = ['-f', '-C', '-c', this.conf, '-Lf', this.logFile, '-m', ''];
    const [cmd, argv] = this.o.netns ? ['ip', ['netns', 'exec', this.o.netns, 'snmpd', ...args]] : ['snmpd', args];
    const child = spawn(cmd, argv, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SNMP_PERSISTENT_DIR: this.persist, MIBS: '' },
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 10_000;
    while (!existsSync(this.socket)) {
      if (!this.running()) {
        const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-2000) : '';
        throw new VcnError('SNMPD_START', `snmpd exited at start: ${stderr.trim() || log.trim() || `code ${child.exitCode}`}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new VcnError('SNMPD_START', 'snmpd did not open its AgentX socket within 10 s');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.o.log?.(`snmpd started (pid ${child.pid}${this.o.netns ? `, netns ${this.o.netns}` : ''})`);
  }

  /** SIGTERM, then SIGKILL after 3 s; by PID. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) {
      this.child = undefined;
      return;
    }
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(killer);
    this.child = undefined;
  }

  /**
   * snmpd saves USM users it created in its persistent file and would load
   * them again next time: a user removed from the configuration would keep
   * working. Keep only the engine boot counter (RFC 3414 time windows need it).
   */
  private keepOnlyBoots(): void {
    mkdirSync(this.persist, { recursive: true, mode: 0o700 });
    const file = join(this.persist, 'snmpd.conf');
    if (!existsSync(file)) return;
    const keep = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^(engineBoots|oldEngineID)\b/.test(l));
    writeFileSync(file, keep.length ? `${keep.join('\n')}\n` : '', { mode: 0o600 });
  }
}
