/**
 * How a configuration is kept on disk: every list of a top-level container
 * (services, devices, ...) is cut into runs of entries, each run stored once as
 * deflated JSON under the SHA-256 of its JSON; the snapshot itself is a small
 * deflated manifest naming its runs. Cut points depend on the entries
 * (content-defined: after an entry whose name hashes to 0 mod RUN), so adding,
 * removing or changing one service changes one or two runs and every other run
 * is shared with the previous commit. 1000 commits of a 10k-service config
 * then cost little more than one.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

type Obj = Record<string, unknown>;

/** Average entries per run (a power of two) and the hard upper bound. */
const RUN = 32;
const MAX_RUN = 128;

export interface EncodedChunk {
  hash: string;
  /** Deflated JSON of the entries. */
  data: Buffer;
  rawBytes: number;
}

export interface EncodedSnapshot {
  manifest: Buffer;
  chunks: EncodedChunk[];
  /** Bytes of the configuration as plain JSON. */
  rawBytes: number;
}

interface ChunkRef {
  $chunks: string[];
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** FNV-1a over the entry's name (or its JSON when it has none). */
function cutHere(entry: unknown, json: string): boolean {
  const key = isObject(entry) && typeof entry.name === 'string' ? entry.name : json;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) & (RUN - 1)) === 0;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Splits a configuration into manifest and chunks. `known(hash)` tells which
 * chunks the store already holds: those are neither compressed nor returned.
 */
export function encodeSnapshot(config: unknown, known: (hash: string) => boolean = () => false): EncodedSnapshot {
  const chunks: EncodedChunk[] = [];
  const seen = new Set<string>();
  let rawBytes = 0;
  const chunkList = (list: unknown[]): ChunkRef => {
    const refs: string[] = [];
    let run: string[] = [];
    const flush = () => {
      if (!run.length) return;
      const text = `[${run.join(',')}]`;
      run = [];
      rawBytes += text.length;
      const hash = sha(text);
      refs.push(hash);
      if (seen.has(hash) || known(hash)) return;
      seen.add(hash);
      chunks.push({ hash, data: deflateRawSync(text), rawBytes: Buffer.byteLength(text) });
    };
    for (const entry of list) {
      const json = JSON.stringify(entry);
      run.push(json);
      if (cutHere(entry, json) || run.length >= MAX_RUN) flush();
    }
    flush();
    return { $chunks: refs };
  };
  const top: Obj = {};
  for (const [k, v] of Object.entries((config ?? {}) as Obj)) {
    if (!isObject(v)) {
      top[k] = v;
      continue;
    }
    const c: Obj = {};
    for (const [ck, cv] of Object.entries(v)) c[ck] = Array.isArray(cv) && cv.length ? chunkList(cv) : cv;
    top[k] = c;
  }
  const manifestText = JSON.stringify(top);
  rawBytes += manifestText.length;
  return { manifest: deflateRawSync(manifestText), chunks, rawBytes };
}

/** Hashes a manifest refers to. */
export function manifestChunks(manifest: Buffer): string[] {
  const out: string[] = [];
  const top = JSON.parse(inflateRawSync(manifest).toString()) as Obj;
  for (const v of Object.values(top)) {
    if (!isObject(v)) continue;
    for (const cv of Object.values(v)) if (isObject(cv) && Array.isArray(cv.$chunks)) out.push(...(cv.$chunks as string[]));
  }
  return out;
}

/** The configuration back from its manifest; `chunk(hash)` returns the deflated chunk. */
export function decodeSnapshot(manifest: Buffer, chunk: (hash: string) => Buffer | undefined): unknown {
  const top = JSON.parse(inflateRawSync(manifest).toString()) as Obj;
  for (const v of Object.values(top)) {
    if (!isObject(v)) continue;
    for (const [ck, cv] of Object.entries(v)) {
      if (!isObject(cv) || !Array.isArray(cv.$chunks)) continue;
      const list: unknown[] = [];
      for (const hash of cv.$chunks as string[]) {
        const data = chunk(hash);
        if (!data) throw new Error(`store: chunk ${hash} of a snapshot is missing`);
        for (const e of JSON.parse(inflateRawSync(data).toString()) as unknown[]) list.push(e);
      }
      v[ck] = list;
    }
  }
  return top;
}
