/**
 * Host side of the guest's data-plane NICs: one tap per NIC, attached by QEMU
 * in the root namespace and then moved into its own uniquely named network
 * namespace (a client, a server, a bystander). Everything made here is
 * removed by cleanup(), also after a failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export interface Port {
  /** tap name (root namespace until moved) */
  tap: string;
  ns: string;
}

export class Taps {
  readonly id = randomBytes(2).toString('hex');
  readonly ports: Port[] = [];

  constructor(roles: string[]) {
    for (const r of roles) this.ports.push({ tap: `vit${r[0]}${this.id}`, ns: `vimg-${r}-${this.id}` });
  }

  /** Taps with the given host-side MACs, and their namespaces. */
  create(macs: string[]): void {
    for (const [i, p] of this.ports.entries()) {
      ip('tuntap', 'add', 'name', p.tap, 'mode', 'tap');
      ip('link', 'set', p.tap, 'address', macs[i]);
      ip('netns', 'add', p.ns);
      ip('-n', p.ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** After QEMU opened the taps: each goes into its namespace, with addresses and static neighbours. */
  move(setup: Record<string, { addr: string; routes?: string[][]; neigh?: [string, string][] }>): void {
    for (const p of this.ports) {
      if (ip('-o', 'link', 'show').includes(`${p.tap}:`)) ip('link', 'set', p.tap, 'netns', p.ns);
      const s = setup[p.ns];
      ip('-n', p.ns, 'link', 'set', p.tap, 'up');
      if (!s) continue;
      ip('-n', p.ns, 'addr', 'add', s.addr, 'dev', p.tap);
      for (const r of s.routes ?? []) ip('-n', p.ns, 'route', 'add', ...r, 'dev', p.tap);
      for (const [addr, mac] of s.neigh ?? []) ip('-n', p.ns, 'neigh', 'replace', addr, 'lladdr', mac, 'dev', p.tap, 'nud', 'permanent');
    }
  }

  /** Back into the root namespace, where the next QEMU finds them by name. */
  reclaim(): void {
    for (const p of this.ports) ip('-n', p.ns, 'link', 'set', p.tap, 'netns', '1');
  }

  cleanup(): void {
    for (const p of this.ports) {
      try {
        ip('link', 'del', p.tap);
      } catch {
        /* moved or gone */
      }
      try {
        ip('netns', 'del', p.ns);
      } catch {
        /* never made */
      }
    }
  }
}
