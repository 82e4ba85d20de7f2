/**
 * SNMPv3 (USM) pass phrases never reach the store: a clear-text
 * auth-password or priv-password of system/snmp/v3-user is replaced by its
 * key localized to the agent's engine ID (RFC 3414 A.2, with SHA-256/512 as
 * in RFC 7860), written as 0x<hex>. snmpd takes such keys with
 * `createUser -l`. A stolen store (or a configuration shown to an operator)
 * then yields a key that works only against this one agent, not the pass
 * phrase the NMS may use elsewhere.
 *
 * A value that already is 0x<hex> of the right length is kept as it is.
 */
import { createHash } from 'node:crypto';
import { addSecretTransform } from '../northbound/secrets.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const HASH = { 'sha-256': { alg: 'sha256', bytes: 32 }, 'sha-512': { alg: 'sha512', bytes: 64 } } as const;
/** AES-128 uses the first 16 octets of the privacy key localized with the auth hash. */
const AES128_BYTES = 16;

/** RFC 3414 A.2.2: hash of 1 MiB of the repeated pass phrase, then H(Ku | engineID | Ku). */
export function localizeKey(passphrase: string, engineIdHex: string, alg: 'sha1' | 'sha256' | 'sha512'): Buffer {
  const pw = Buffer.from(passphrase, 'utf8');
  if (!pw.length) throw new Error('empty pass phrase');
  const ku = createHash(alg)
    .update(Buffer.alloc(1 << 20, pw))
    .digest();
  return createHash(alg).update(ku).update(Buffer.from(engineIdHex, 'hex')).update(ku).digest();
}

const isKey = (v: unknown, bytes: number) => typeof v === 'string' && new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`).test(v);

let engineId: string | undefined;

/**
 * From now on v3 pass phrases written to any candidate or commit are localized
 * to this engine ID (the daemon's; one daemon per process: the secret
 * transforms of mgmt/northbound/secrets.ts are process-wide).
 */
export function localizeUsmKeysTo(engineIdHex: string): void {
  engineId = engineIdHex;
  addSecretTransform(currentEngineTransform);
}

function currentEngineTransform(tree: Obj): void {
  if (engineId) usmKeyTransform(engineId)(tree);
}

/** A secret transform (mgmt/northbound/secrets.ts) that localizes v3 pass phrases to `engineIdHex`. */
export function usmKeyTransform(engineIdHex: string): (tree: Obj) => void {
  return (tree) => {
    const snmp = isObj(tree.system) && isObj(tree.system.snmp) ? tree.system.snmp : undefined;
    if (!snmp || !Array.isArray(snmp['v3-user'])) return;
    for (const u of snmp['v3-user'] as unknown[]) {
      if (!isObj(u)) continue;
      const proto = u['auth-protocol'] === 'sha-512' ? HASH['sha-512'] : HASH['sha-256'];
      const auth = u['auth-password'];
      if (typeof auth === 'string' && auth.length >= 8 && !isKey(auth, proto.bytes)) u['auth-password'] = `0x${localizeKey(auth, engineIdHex, proto.alg).toString('hex')}`;
      const priv = u['priv-password'];
      if (typeof priv === 'string' && priv.length >= 8 && !isKey(priv, AES128_BYTES)) {
        u['priv-password'] = `0x${localizeKey(priv, engineIdHex, proto.alg).subarray(0, AES128_BYTES).toString('hex')}`;
      }
    }
  };
}
