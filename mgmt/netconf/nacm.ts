/**
 * NACM-lite (after RFC 8341): admins read and write everything; operators
 * read everything and write nothing (the operation table refuses their
 * writes); a customer user reads and edits only the ACLs of its own services
 * (services whose `customer` leaf is the user's customer). Writes are checked
 * on the result: the edit may change nothing but those ACLs. Secrets (login
 * password hashes, SNMPv3 keys) are shown to admins only.
 */
import type { Config } from '../../appliance/model/config.generated.js';
import { rpcError } from './rpc-error.js';
import type { User } from './users.js';

type Obj = Record<string, unknown>;
type Service = Config['services']['service'][number];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Leaves under system that hold secrets: hidden from everyone but admins. */
const SECRET_LEAVES = new Set(['password', 'auth-password', 'priv-password']);

/** The configuration without its secrets (a copy of `system` only; the rest is shared). */
export function withoutSecrets(config: Config): Config {
  if (!config.system) return config;
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => !SECRET_LEAVES.has(k)).map(([k, x]) => [k, strip(x)]));
  };
  return { ...config, system: strip(config.system) as Config['system'] };
}

/** Whether a schema path (/system/login/user[name='x']/password) names a secret leaf. */
export function isSecretPath(path: string): boolean {
  const last = path.replace(/\[[^\]]*\]/g, '').split('/').at(-1) ?? '';
  return path.startsWith('/system/') && SECRET_LEAVES.has(last);
}

/** A change value (leaf or subtree) as a non-admin may see it. */
export function redactValue(path: string, v: unknown): unknown {
  if (v === undefined) return v;
  if (isSecretPath(path)) return '(hidden)';
  if (!path.startsWith('/system') || typeof v !== 'object' || v === null) return v;
  return (withoutSecrets({ system: v } as unknown as Config) as unknown as { system: unknown }).system;
}

/** What a user may read of a configuration. */
export function readView(user: User, config: Config): Config {
  if (user.role === 'admin') return config;
  if (user.role !== 'customer') return withoutSecrets(config);
  const own = (config.services?.service ?? []).filter((s) => s.customer === user.customer);
  return { services: { service: own.map((s) => ({ name: s.name, customer: s.customer, acl: s.acl }) as Service) } } as unknown as Config;
}

/** Throws access-denied when the user may not make the change from `before` to `after`. */
export function checkWrite(user: User, before: Config, after: Config): void {
  if (user.role === 'admin') return;
  const deny = (path: string, why: string) => {
    throw rpcError('access-denied', 'NETCONF_ACCESS_DENIED', `user ${user.name} may not change ${path}: ${why}`, { type: 'application', path });
  };
  if (user.role !== 'customer') deny('/', `role ${user.role} is read-only`);
  const b = before as unknown as Obj;
  const a = after as unknown as Obj;
  for (const top of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (top !== 'services' && !same(b[top], a[top])) deny(`/vcn:${top}`, 'customers edit only the ACLs of their own services');
  }
  const byName = (c: Config) => new Map((c.services?.service ?? []).map((s) => [s.name, s]));
  const bs = byName(before);
  const as = byName(after);
  for (const name of new Set([...bs.keys(), ...as.keys()])) {
    const x = bs.get(name);
    const y = as.get(name);
    const path = `/vcn:services/vcn:service[vcn:name='${name}']`;
    if (!x || !y) {
      if (!same(x, y)) deny(path, 'customers cannot create or delete services');
      continue;
    }
    const { acl: aclX, ...restX } = x;
    const { acl: aclY, ...restY } = y;
    if (!same(restX, restY)) deny(path, 'customers edit only the ACL of a service');
    if (!same(aclX, aclY) && x.customer !== user.customer) deny(`${path}/vcn:acl`, `the service belongs to another customer`);
  }
}
