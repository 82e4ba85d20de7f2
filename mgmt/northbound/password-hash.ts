/**
 * Login passwords as scrypt hashes (node:crypto) with a per-password salt:
 * `$scrypt$N$r$p$<salt base64>$<hash base64>`. Only this form is ever stored;
 * verification runs scrypt asynchronously (off the event loop) and compares in
 * constant time. The cost parameters of a stored hash are bounded, so a hash
 * pasted into the configuration cannot make a login cost unbounded memory.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;
/** A stored hash's parameters must stay in these bounds to be accepted as a hash. */
const MAX_LOG2_N = 20;
const MAX_R = 16;
const MAX_P = 4;

const FORM = /^\$scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/]{16,88}={0,2})\$([A-Za-z0-9+/]{16,88}={0,2})$/;

interface Parsed {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): Parsed | undefined {
  // The form without the leading '$' is what earlier versions kept in the store's user table.
  const m = FORM.exec(stored.startsWith('scrypt$') ? `$${stored}` : stored);
  if (!m) return undefined;
  const n = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (n < 2 || (n & (n - 1)) !== 0 || n > 2 ** MAX_LOG2_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  return { n, r, p, salt: Buffer.from(m[4], 'base64'), hash: Buffer.from(m[5], 'base64') };
}

/** True when the value is a password hash this module can verify (anything else is clear text). */
export function isPasswordHash(value: string): boolean {
  return parse(value) !== undefined;
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEYLEN, { N, r: R, p: P });
  return `$scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function scryptAsync(password: string, salt: Buffer, len: number, o: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, len, { ...o, maxmem: 256 * o.N * o.r + 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))),
  );
}

/** Whether the password matches the stored hash; a malformed hash matches nothing. */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const h = stored === undefined ? undefined : parse(stored);
  if (!h) {
    // The same work whether or not there is a hash, so timing does not tell which users exist.
    await scryptAsync(password, Buffer.alloc(16), KEYLEN, { N, r: R, p: P });
    return false;
  }
  const got = await scryptAsync(password, h.salt, h.hash.length, { N: h.n, r: h.r, p: h.p });
  return got.length === h.hash.length && timingSafeEqual(got, h.hash);
}
