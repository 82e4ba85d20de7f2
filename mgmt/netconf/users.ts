/**
 * Management users and the SSH host key, kept in the store. Passwords are
 * scrypt hashes (node:crypto) with a per-user salt, compared in constant time.
 * The host key (ed25519, OpenSSH format) is generated at first start.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Store } from '../store/store.js';

export type Role = 'admin' | 'operator' | 'customer';

export interface User {
  name: string;
  role: Role;
  /** For role customer: services whose `customer` leaf equals this are its own. */
  customer?: string;
  publicKeys: string[];
}

const N = 16384;
const R = 8;
const P = 1;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), want.length, { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === want.length && timingSafeEqual(got, want);
}

interface Row {
  name: string;
  role: Role;
  customer: string | null;
  password: string | null;
  public_keys: string;
}

export class Users {
  constructor(private readonly store: Store) {}

  /** Creates or replaces a user. */
  set(u: { name: string; role: Role; customer?: string; password?: string; publicKeys?: string[] }): void {
    if (u.role === 'customer' && !u.customer) throw new Error(`user ${u.name}: a customer user needs a customer`);
    this.store.db
      .prepare('INSERT OR REPLACE INTO mgmt_user (name, role, customer, password, public_keys, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(u.name, u.role, u.customer ?? null, u.password === undefined ? null : hashPassword(u.password), JSON.stringify(u.publicKeys ?? []), Date.now());
  }

  get(name: string): User | undefined {
    const r = this.store.db.prepare('SELECT * FROM mgmt_user WHERE name = ?').get(name) as Row | undefined;
    return r && { name: r.name, role: r.role, customer: r.customer ?? undefined, publicKeys: JSON.parse(r.public_keys) as string[] };
  }

  count(): number {
    return Number(this.store.db.prepare('SELECT count(*) FROM mgmt_user').pluck().get());
  }

  /** The user when the password is right, else undefined. */
  checkPassword(name: string, password: string): User | undefined {
    const r = this.store.db.prepare('SELECT * FROM mgmt_user WHERE name = ?').get(name) as Row | undefined;
    if (!r?.password) {
      hashPassword(password); // same work whether or not the user exists
      return undefined;
    }
    return verifyPassword(password, r.password) ? this.get(name) : undefined;
  }
}

/** The SSH host key (OpenSSH private key text), generated and stored at first use. */
export function hostKey(store: Store): string {
  const have = store.setting('netconf.host-key');
  if (have) return have;
  const key = ssh2.utils.generateKeyPairSync('ed25519').private;
  store.setSetting('netconf.host-key', key);
  return key;
}
