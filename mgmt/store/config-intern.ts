/**
 * The store keeps recent configurations decoded (store.ts), and at 100k
 * services one weighs ~70 MB: every service has its own port list, steps,
 * ACL and empty lists, although most are equal to another service's. Shared
 * here: equal parts (by JSON text) become one object, and the whole is frozen
 * so that a reader of the shared copy cannot change it (nor, through a shared
 * part, another service). Named entries (a service, a device) are never
 * equal to another and are not compared, only their parts. Pure.
 */

type Obj = Record<string, unknown>;

/** Shares equal parts of `config` in place and deep-freezes it; returns it. */
export function internConfig<T>(config: T): T {
  const seen = new Map<string, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = walk(v[i], depth + 1);
    else for (const k of Object.keys(v)) (v as Obj)[k] = walk((v as Obj)[k], depth + 1);
    Object.freeze(v);
    // The top containers and named entries are unique: keying them would only cost their JSON.
    if (depth < 2 || (!Array.isArray(v) && typeof (v as Obj).name === 'string')) return v;
    const key = JSON.stringify(v);
    const hit = seen.get(key);
    if (hit !== undefined) return hit;
    seen.set(key, v);
    return v;
  };
  return walk(config, 0) as T;
}

/** A deep copy that shares nothing (structuredClone would keep interned parts shared). */
export function unsharedCopy<T>(config: T): T {
  return JSON.parse(JSON.stringify(config)) as T;
}
