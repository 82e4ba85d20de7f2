/**
 * Secrets in a configuration are stored protected, whoever writes them: a
 * clear-text login password becomes its scrypt hash before the candidate (or
 * a committed configuration) is stored, and a value that already is a hash is
 * kept as it is. Other owners of secrets (e.g. SNMPv3 keys, localized to the
 * agent's engine ID) add their own transform with addSecretTransform.
 */
import type { Config } from '../../appliance/model/config.generated.js';
import { hashPassword, isPasswordHash } from './password-hash.js';

/** Changes the tree in place, under `system` only (the commit path copies just that); must accept any shape (candidates may be invalid). */
export type SecretTransform = (tree: Record<string, unknown>) => void;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function hashLoginPasswords(tree: Obj): void {
  const login = isObj(tree.system) && isObj(tree.system.login) ? tree.system.login : undefined;
  if (!login || !Array.isArray(login.user)) return;
  for (const u of login.user as unknown[]) {
    if (isObj(u) && typeof u.password === 'string' && u.password !== '' && !isPasswordHash(u.password)) u.password = hashPassword(u.password);
  }
}

const transforms: SecretTransform[] = [hashLoginPasswords];

export function addSecretTransform(t: SecretTransform): void {
  if (!transforms.includes(t)) transforms.push(t);
}

/** Protects the secrets of a tree in place and returns it. */
export function protectSecrets<T extends Config>(tree: T): T {
  if (isObj(tree)) for (const t of transforms) t(tree as unknown as Obj);
  return tree;
}
