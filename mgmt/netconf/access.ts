/**
 * Who may log on, from where, and how often they may fail: read from the
 * running configuration's `system` container, so users, roles, allowed
 * source prefixes and login limits are committed and rolled back like the
 * rest. The view is rebuilt when the running commit changes.
 *
 *   system/login/user             name, class (admin|operator|customer), customer,
 *                                 password ($scrypt$ hash), ssh-key (OpenSSH lines)
 *   system/management/allowed-prefix   sources that may connect (none: any)
 *   system/management/login-limit      max-failures within window → blocked for block-time
 *
 * While the running configuration names no user, the store's bootstrap users
 * (users.ts) log on instead, so the first admin exists before the wizard.
 */
import { BlockList, isIP } from 'node:net';
import ssh2 from 'ssh2';
import type { Config } from '../../appliance/model/config.generated.js';
import { verifyPassword } from '../northbound/password-hash.js';
import type { Store } from '../store/store.js';
import { LoginLimiter } from './login-limit.js';
import type { LoginUser, Role, User, Users } from './users.js';

export interface LoginLimits {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
}

interface View {
  commit: number | null;
  netconf: { enabled: boolean; port: number };
  /** Users from the configuration; undefined: none configured (bootstrap users apply). */
  users?: Map<string, LoginUser>;
  prefixes: string[];
  allow?: BlockList;
  limits: LoginLimits;
}

const DEFAULT_LIMITS: LoginLimits = { maxFailures: 5, windowMs: 60_000, blockMs: 300_000 };

function blockList(prefixes: string[]): BlockList {
  const b = new BlockList();
  for (const p of prefixes) {
    const [addr, len] = p.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    b.addSubnet(addr, Number(len ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return b;
}

/** Strips what only the server needs (the password hash) from a user handed to a session. */
function publicUser(u: LoginUser): User {
  return { name: u.name, role: u.role, customer: u.customer, publicKeys: u.publicKeys };
}

export class Access {
  private view?: View;
  private fallbackAllow?: string[];
  /** Failed logins per source: kept here, so a block outlives an SSH listener that moves or restarts. */
  readonly limiter = new LoginLimiter(() => this.limits());

  constructor(
    private readonly store: Store,
    private readonly bootstrap: Users,
  ) {}

  /** Prefixes from the command line, used while the configuration names none. */
  setFallbackAllow(prefixes: string[]): void {
    this.fallbackAllow = prefixes;
    this.view = undefined;
  }

  private current(): View {
    const commit = this.store.runningId();
    if (this.view && this.view.commit === commit) return this.view;
    const system = (this.store.running({ readonly: true }).config as Partial<Config> | undefined)?.system;
    const list = system?.login?.user ?? [];
    const users = list.length
      ? new Map(
          list.map((u) => [
            u.name,
            { name: u.name, role: u.class as Role, customer: u.customer, publicKeys: [...(u['ssh-key'] ?? [])], passwordHash: u.password } satisfies LoginUser,
          ]),
        )
      : undefined;
    const configured = system?.management?.['allowed-prefix'] ?? [];
    const prefixes = configured.length ? configured : (this.fallbackAllow ?? []);
    const ll = system?.management?.['login-limit'];
    const limits: LoginLimits = ll
      ? { maxFailures: ll['max-failures'], windowMs: ll.window * 1000, blockMs: ll['block-time'] * 1000 }
      : DEFAULT_LIMITS;
    const nc = system?.management?.netconf;
    const netconf = { enabled: nc?.enabled ?? true, port: nc?.port ?? 830 };
    this.view = { commit, netconf, users, prefixes, allow: prefixes.length ? blockList(prefixes) : undefined, limits };
    return this.view;
  }

  /** Whether a source address may open a management session. */
  allowed(ip: string): boolean {
    const v = this.current();
    if (!v.allow) return true;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    return v.allow.check(ip, family);
  }

  prefixes(): string[] {
    return this.current().prefixes;
  }

  /** system/management/netconf: whether NETCONF over SSH is on, and its port. */
  netconfService(): { enabled: boolean; port: number } {
    return this.current().netconf;
  }

  limits(): LoginLimits {
    return this.current().limits;
  }

  /** Where users come from right now. */
  source(): 'configuration' | 'bootstrap' {
    return this.current().users ? 'configuration' : 'bootstrap';
  }

  private find(name: string): LoginUser | undefined {
    const v = this.current();
    const u = v.users ? v.users.get(name) : this.bootstrap.get(name);
    // A customer user without its customer would read every service that has none: it may not log on.
    if (u && u.role === 'customer' && !u.customer) return undefined;
    return u;
  }

  /** The user when the password is right, else undefined (same work either way). */
  async checkPassword(name: string, password: string): Promise<User | undefined> {
    const u = this.find(name);
    return (await verifyPassword(password, u?.passwordHash)) && u ? publicUser(u) : undefined;
  }

  /** The user and the key when `name` may log on with this public key (algorithm + key blob). */
  keyFor(name: string, algo: string, data: Buffer): { user: User; key: ssh2.ParsedKey } | undefined {
    const u = this.find(name);
    if (!u) return undefined;
    for (const line of u.publicKeys) {
      const k = ssh2.utils.parseKey(line);
      if (k instanceof Error) continue;
      if (k.type === algo && k.getPublicSSH().equals(data)) return { user: publicUser(u), key: k };
    }
    return undefined;
  }
}
