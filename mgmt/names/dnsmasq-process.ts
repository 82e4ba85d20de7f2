/**
 * Debian's dnsmasq (package dnsmasq-base) run by the daemon as a child process,
 * optionally inside the engine's network namespace: started in the foreground
 * with only the options dnsmasq-config.ts generates (no /etc/dnsmasq.conf, no
 * /etc/hosts, no upstream resolvers), told to re-read its hosts file with
 * SIGHUP, stopped by its PID only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { VcnError } from '../../appliance/errors.js';

export class DnsmasqProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private args: string[] = [];
  private output = '';

  constructor(private readonly o: { netns?: string; log?: (line: string) => void }) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts dnsmasq with these options, or sends SIGHUP when it already runs with them (hosts file re-read). */
  async ensure(args: string[]): Promise<'started' | 'reloaded'> {
    if (this.running() && args.join('\0') === this.args.join('\0')) {
      this.child!.kill('SIGHUP');
      return 'reloaded';
    }
    await this.stop();
    this.output = '';
    const [cmd, argv] = this.o.netns ? ['ip', ['netns', 'exec', this.o.netns, 'dnsmasq', ...args]] : ['dnsmasq', args];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.args = args;
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', () => r()));
    // dnsmasq binds its sockets before it logs "started"; it exits at once on a bad option or a busy port.
    const deadline = Date.now() + 10_000;
    while (!/started, version/.test(this.output)) {
      if (!this.running()) throw new VcnError('DNSMASQ_START', `dnsmasq exited at start: ${this.output.trim() || `code ${child.exitCode}`}`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new VcnError('DNSMASQ_START', 'dnsmasq did not start within 10 s');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.o.log?.(`dnsmasq started (pid ${child.pid}${this.o.netns ? `, netns ${this.o.netns}` : ''})`);
    return 'started';
  }

  /** What dnsmasq printed last (its log goes to stderr). */
  log(): string {
    return this.output;
  }

  /** SIGTERM, then SIGKILL after 3 s; by PID. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(killer);
  }
}
