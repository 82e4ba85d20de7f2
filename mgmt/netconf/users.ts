/**
 * Management users and the SSH host key. The users that count are those of
 * the running configuration (system/login/user, see access.ts); the store's
 * own user table is only the bootstrap: it holds the first admin (created at
 * first start from --admin-password or the image's first boot) and is used
 * only while the running configuration names no user — before the console
 * wizard committed one, or after a rollback to such a configuration.
 * The host key (ed25519, OpenSSH format) is generated at first start.
 */
import ssh2 from 'ssh2';
import { hashPassword, verifyPassword } from '../northbound/password-hash.js';
import type { Store } from '../store/store.js';

export type Role = 'admin' | 'operator' | 'customer';

export interface User {
  name: string;
  role: Role;
  /** For role customer: services whose `customer` leaf equals this are its own. */
  customer?: string;
  publicKeys: string[];
}

/** A user with the password hash it logs in with (never leaves the server). */
export interface LoginUser extends User {
  passwordHash?: string;
}

interface Row {
  name: string;
  role: Role;
  customer: string | null;
  password: string | null;
  public_keys: string;
}

/** The bootstrap users kept in the store (see the header). */
export class Users {
  constructor(private readonly store: Store) {}

  /** Creates or replaces a user. */
  set(u: { name: string; role: Role; customer?: string; password?: string; publicKeys?: string[] }): void {
    if (u.role === 'customer' && !u.customer) throw new Error(`user ${u.name}: a customer user needs a customer`);
    this.store.db
      .prepare('INSERT OR REPLACE INTO mgmt_user (name, role, customer, password, public_keys, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(u.name, u.role, u.customer ?? null, u.password === undefined ? null : hashPassword(u.password), JSON.stringify(u.publicKeys ?? []), Date.now());
  }

  get(name: string): LoginUser | undefined {
    const r = this.store.db.prepare('SELECT * FROM mgmt_user WHERE name = ?').get(name) as Row | undefined;
    return r && { name: r.name, role: r.role, customer: r.customer ?? undefined, publicKeys: JSON.parse(r.public_keys) as string[], passwordHash: r.password ?? undefined };
  }

  count(): number {
    return Number(this.store.db.prepare('SELECT count(*) FROM mgmt_user').pluck().get());
  }

  /** The user when the password is right, else undefined. */
  async checkPassword(name: string, password: string): Promise<User | undefined> {
    const u = this.get(name);
    return (await verifyPassword(password, u?.passwordHash)) ? u : undefined;
  }
}

/** The SSH host key (OpenSSH private key text), generated and stored at first use. */
export function hostKey(store: Store): string {
  const have = store.setting('netconf.host-key');
  // A stored key that does not parse (one written before the check below) is replaced: the server cannot use it.
  if (have && !(ssh2.utils.parseKey(have) instanceof Error)) return have;
  // ssh2 (1.17) writes an OpenSSH key text that its own parser refuses ("Malformed OpenSSH private key") for
  // about 1 in 250 generated keys: such a key would keep the SSH server from starting, so only one that
  // parses is kept.
  for (let attempt = 0; attempt < 20; attempt++) {
    const key = ssh2.utils.generateKeyPairSync('ed25519').private;
    if (ssh2.utils.parseKey(key) instanceof Error) continue;
    store.setSetting('netconf.host-key', key);
    return key;
  }
  throw new Error('could not generate an SSH host key that parses');
}
