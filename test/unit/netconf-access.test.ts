/**
 * Login passwords, secrets and login limits: scrypt hashes in the
 * `$scrypt$` form (older `scrypt$` rows still verify), clear text replaced by
 * its hash wherever a configuration is stored, hashes kept unchanged, secrets
 * hidden from non-admins, and the per-source failed-login limiter.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { hashPassword, isPasswordHash, verifyPassword } from '../../mgmt/northbound/password-hash.js';
import { protectSecrets } from '../../mgmt/northbound/secrets.js';
import { isSecretPath, readView, redactValue } from '../../mgmt/netconf/nacm.js';
import { LoginLimiter } from '../../mgmt/netconf/login-limit.js';
import { defaultSystem } from '../../mgmt/schema/defaults.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';

const withUsers = (users: Config['system']['login']['user']): Config => {
  const system = defaultSystem();
  system.login.user = users;
  return checkConfig({ system }).config;
};

describe('password hashes', () => {
  it('hashes with scrypt and verifies; a wrong password, no hash or a malformed hash match nothing', async () => {
    const h = hashPassword('s3cret');
    expect(h).toMatch(/^\$scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(isPasswordHash(h)).toBe(true);
    expect(await verifyPassword('s3cret', h)).toBe(true);
    expect(await verifyPassword('s3cret!', h)).toBe(false);
    expect(await verifyPassword('s3cret', undefined)).toBe(false);
    expect(await verifyPassword('s3cret', 'no-hash')).toBe(false);
    // the form the store's bootstrap table used before keeps working
    expect(await verifyPassword('s3cret', h.slice(1))).toBe(true);
  });

  it('refuses hashes whose cost parameters are out of bounds (they are treated as clear text)', () => {
    const h = hashPassword('x').split('$');
    h[2] = String(2 ** 24);
    expect(isPasswordHash(h.join('$'))).toBe(false);
    h[2] = '1000';
    expect(isPasswordHash(h.join('$'))).toBe(false);
  });

  it('protectSecrets replaces clear text by its hash and keeps hashes unchanged', async () => {
    const pre = hashPassword('kept');
    const c = withUsers([
      { name: 'a', class: 'admin', password: 'plain', 'ssh-key': [] },
      { name: 'b', class: 'operator', password: pre, 'ssh-key': [] },
      { name: 'c', class: 'operator', 'ssh-key': [] },
    ]);
    protectSecrets(c);
    const [a, b, u] = c.system.login.user;
    expect(isPasswordHash(a.password!)).toBe(true);
    expect(await verifyPassword('plain', a.password)).toBe(true);
    expect(b.password).toBe(pre);
    expect(u.password).toBeUndefined();
    expect(checkConfig(c).issues).toEqual([]);
    // any shape is accepted (candidates may be invalid)
    expect(() => protectSecrets({ system: { login: { user: [null, 3, { password: 7 }] } } } as never)).not.toThrow();
  });
});

describe('NACM: secrets', () => {
  const c = withUsers([{ name: 'a', class: 'admin', password: hashPassword('p'), 'ssh-key': ['ssh-ed25519 AAAA k'] }]);
  it('admins see password hashes, operators do not; the stored tree is not changed', () => {
    const admin = readView({ name: 'x', role: 'admin', publicKeys: [] }, c);
    expect(admin.system.login.user[0].password).toMatch(/^\$scrypt\$/);
    const oper = readView({ name: 'y', role: 'operator', publicKeys: [] }, c);
    expect(oper.system.login.user[0].password).toBeUndefined();
    expect(oper.system.login.user[0]['ssh-key']).toEqual(['ssh-ed25519 AAAA k']);
    expect(c.system.login.user[0].password).toMatch(/^\$scrypt\$/);
    const cust = readView({ name: 'z', role: 'customer', customer: 'acme', publicKeys: [] }, c);
    expect(cust.system).toBeUndefined();
  });
  it('compare values under secret paths are hidden', () => {
    expect(isSecretPath("/system/login/user[name='a']/password")).toBe(true);
    expect(isSecretPath("/services/service[name='password']/description")).toBe(false);
    expect(redactValue("/system/login/user[name='a']/password", '$scrypt$x')).toBe('(hidden)');
    expect(redactValue("/system/login/user[name='a']", { name: 'a', password: 'h' })).toEqual({ name: 'a' });
    expect(redactValue("/services/service[name='a']/description", 'd')).toBe('d');
  });
});

describe('login limiter', () => {
  it('blocks a source after max-failures within the window, for block-time; success clears; other sources unaffected', () => {
    let now = 1_000_000;
    const l = new LoginLimiter(() => ({ maxFailures: 3, windowMs: 10_000, blockMs: 60_000 }), () => now);
    expect(l.fail('192.0.2.1').blockedUntil).toBeUndefined();
    now += 20_000; // the first failure leaves the window
    l.fail('192.0.2.1');
    expect(l.fail('192.0.2.1').blockedUntil).toBeUndefined();
    expect(l.blockedUntil('192.0.2.1')).toBeUndefined();
    const r = l.fail('192.0.2.1');
    expect(r).toEqual({ failures: 3, blockedUntil: now + 60_000 });
    expect(l.blockedUntil('192.0.2.1')).toBe(now + 60_000);
    expect(l.blockedUntil('192.0.2.2')).toBeUndefined();
    l.succeed('192.0.2.1'); // cannot lift a block
    expect(l.blockedUntil('192.0.2.1')).toBe(now + 60_000);
    now += 60_001;
    expect(l.blockedUntil('192.0.2.1')).toBeUndefined();
    expect(l.fail('192.0.2.1').failures).toBe(1);
    l.succeed('192.0.2.1');
    expect(l.fail('192.0.2.1').failures).toBe(1);
  });
  it('tracks a bounded number of sources', () => {
    const l = new LoginLimiter(() => ({ maxFailures: 2, windowMs: 10_000, blockMs: 60_000 }), () => 5, 100);
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(l.fail('10.0.3.231').failures).toBe(2); // recent ones are kept
    expect(l.fail('10.0.0.0').failures).toBe(1); // the oldest was forgotten
  });
});
