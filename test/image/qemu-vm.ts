/**
 * One QEMU guest for the image boot test: the disk as a throw-away qcow2
 * overlay, NIC 0 on QEMU's user network with host forwards (NETCONF 830,
 * SNMP 161), further NICs on host tap devices, the serial console on a unix
 * socket that the test reads (and can type into), stopped by its PID only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';

export interface VmOptions {
  disk: string;
  /** Serial console socket path. */
  serial: string;
  accel: 'kvm' | 'tcg';
  /** Host ports forwarded to the guest's eth0. */
  forward: { tcp: Record<number, number>; udp: Record<number, number> };
  /** Tap device names for eth1.. (created beforehand). */
  taps: string[];
  /** MAC of eth0, eth1, … */
  macs: string[];
  /** fw_cfg seed file (opt/vcn/seed). */
  seed?: string;
  log: (line: string) => void;
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78NOM]|[\x0e\x0f]/g;

export class Vm {
  private proc?: ChildProcess;
  private sock?: Socket;
  /** Everything the serial console printed, escape sequences removed. */
  text = '';
  raw = '';
  /** Listeners for the serial console's bytes as they come (SerialScreen). */
  readonly onData: ((d: Buffer) => void)[] = [];
  startedAt = 0;
  exited?: Promise<number | null>;

  constructor(private readonly o: VmOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const fwd = [
      ...Object.entries(o.forward.tcp).map(([h, g]) => `hostfwd=tcp:127.0.0.1:${h}-:${g}`),
      ...Object.entries(o.forward.udp).map(([h, g]) => `hostfwd=udp:127.0.0.1:${h}-:${g}`),
    ].join(',');
    const args = [
      '-machine', `pc,accel=${o.accel}`, '-m', '1024', '-smp', '1', '-display', 'none', '-no-user-config', '-nodefaults',
      '-drive', `file=${o.disk},if=virtio,format=qcow2,cache=writeback`,
      '-serial', `unix:${o.serial},server=on,wait=off`,
      '-netdev', `user,id=n0${fwd ? `,${fwd}` : ''}`, '-device', `virtio-net-pci,netdev=n0,mac=${o.macs[0]}`,
      ...o.taps.flatMap((t, i) => ['-netdev', `tap,id=n${i + 1},ifname=${t},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n${i + 1},mac=${o.macs[i + 1]}`]),
      ...(o.seed ? ['-fw_cfg', `name=opt/vcn/seed,file=${o.seed}`] : []),
    ];
    this.text = '';
    this.raw = '';
    this.startedAt = Date.now();
    const p = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (d: Buffer) => o.log(`qemu: ${d.toString().trim()}`));
    p.stderr!.on('data', (d: Buffer) => o.log(`qemu: ${d.toString().trim()}`));
    this.exited = new Promise((r) => p.on('exit', (code) => r(code)));
    for (let i = 0; i < 100 && !existsSync(o.serial); i++) await sleep(100);
    this.sock = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(o.serial, () => resolve(s));
      s.once('error', reject);
    });
    this.sock.on('data', (d: Buffer) => {
      for (const f of this.onData) f(d);
      const t = d.toString('latin1');
      this.raw += t;
      // blessed moves the cursor one cell (ESC [ 1 C) instead of printing a space
      this.text += t.replace(/\x1b\[(\d*)C/g, (_m, n: string) => ' '.repeat(Number(n || 1))).replace(ANSI, '').replace(/\r/g, '');
    });
    this.sock.on('error', () => {});
  }

  /** Resolves with the seconds since start when `re` shows on the console. */
  async waitConsole(re: RegExp, timeoutMs: number, since = 0): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (re.test(this.text.slice(since))) return (Date.now() - this.startedAt) / 1000;
      if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) throw new Error(`qemu exited (${this.proc.exitCode})`);
      await sleep(250);
    }
    throw new Error(`console did not show ${re} within ${timeoutMs / 1000} s; last output:\n${this.text.slice(-1500)}`);
  }

  type(keys: string): void {
    this.sock?.write(keys);
  }

  /** Power off at once (QEMU quits; the disk is flushed, the guest is not told). */
  async stop(): Promise<void> {
    this.sock?.destroy();
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
