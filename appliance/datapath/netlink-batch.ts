/**
 * Element changes as one nf_tables netlink batch (NFT_MSG_NEWSETELEM /
 * DELSETELEM between BATCH_BEGIN and BATCH_END), built here byte by byte so
 * that a change of a few elements never goes through `nft`: nft 1.0.6 starts
 * in ~5 ms and then fetches the table's interval maps before every
 * transaction, which made a one-service change cost 170 ms at 100k services.
 * The kernel applies a batch atomically, like `nft -f`; without BATCH_END it
 * validates and aborts it, like `nft -c`. Pure: the socket I/O is the
 * runner's (netlink-writer.ts).
 *
 * Supported: hash and concatenated-interval (pipapo) maps and sets, keys of
 * ifname, ether_addr, ipv4_addr, ipv6_addr, inet_service, mark; data of
 * verdicts, marks, addresses, ports and object references; per-element
 * counters with initial values. Single-field interval sets (rbtree: start and
 * end elements) are not: `encodable` says no and the caller uses nft.
 */
import type { NftSet } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import {
  BatchEncodeError,
  encodable,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NFPROTO_NETDEV,
  NFT_MSG,
  nftType,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_REQUEST,
  NlWriter,
  SetEncoder,
} from './netlink-encode.js';

export { BatchEncodeError, encodable } from './netlink-encode.js';

const SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;

/** A nested attribute's payload may not pass 64 KiB (u16 length): a message's element list is closed once it passes this. */
export const MAX_ELEMENTS_BYTES = 48 * 1024;

export interface BatchMessage {
  seq: number;
  op: 'add' | 'delete';
  set: string;
  elements: number;
}

export interface ElementBatch {
  bytes: Buffer;
  /** The messages that ask for an acknowledgement, in order (BEGIN and END do not). */
  messages: BatchMessage[];
}

export interface ElementChange {
  set: NftSet;
  /** The keys, or every element of the set. */
  keys: string[] | 'all';
  /** Initial counter values of added elements, by key. */
  counters?: Map<string, CounterValue>;
}

/**
 * The element messages (NEWSETELEM / DELSETELEM) of one set: a message is
 * opened on the first element and closed once its element list passes
 * MAX_ELEMENTS_BYTES, so any number of elements fits the u16 attribute limit.
 */
export class SetElementMessages {
  private msg = -1;
  private list = -1;
  private count = 0;
  private readonly type: number;
  private readonly flags: number;

  constructor(
    private readonly w: NlWriter,
    private readonly table: string,
    private readonly set: string,
    private readonly op: 'add' | 'delete',
    private readonly nextSeq: () => number,
    private readonly messages: BatchMessage[],
  ) {
    this.type = nftType(op === 'add' ? NFT_MSG.NEWSETELEM : NFT_MSG.DELSETELEM);
    this.flags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE : 0);
  }

  /** Writes one element (`write` appends its NFTA_LIST_ELEM) into the open message. */
  element(write: (w: NlWriter) => void): void {
    const w = this.w;
    if (this.msg < 0) {
      const seq = this.nextSeq();
      this.msg = w.begin(this.type, this.flags, seq, NFPROTO_NETDEV);
      w.str(SET_ELEM_LIST.TABLE, this.table);
      w.str(SET_ELEM_LIST.SET, this.set);
      this.list = w.open(SET_ELEM_LIST.ELEMENTS, true);
      this.messages.push({ seq, op: this.op, set: this.set, elements: 0 });
      this.count = 0;
    }
    write(w);
    this.count++;
    if (w.pos - this.list > MAX_ELEMENTS_BYTES) this.finish();
  }

  /** Closes the open message, if any. */
  finish(): void {
    if (this.msg < 0) return;
    this.w.close(this.list);
    this.w.end(this.msg);
    this.messages[this.messages.length - 1].elements = this.count;
    this.msg = -1;
  }
}

/** Appends element messages (NEWSETELEM / DELSETELEM) for `changes` to `w`, split under the attribute limit. */
export function writeElements(
  w: NlWriter,
  table: string,
  op: 'add' | 'delete',
  changes: ElementChange[],
  nextSeq: () => number,
  messages: BatchMessage[],
  encoders = new Map<NftSet, SetEncoder>(),
): void {
  for (const c of changes) {
    let enc = encoders.get(c.set);
    if (!enc) encoders.set(c.set, (enc = new SetEncoder(c.set)));
    const encoder = enc;
    const out = new SetElementMessages(w, table, c.set.name, op, nextSeq, messages);
    const each = (key: string, data: string | undefined) => out.element((writer) => encoder.element(writer, key, data, c.counters?.get(key)));
    if (c.keys === 'all') c.set.elements.forEach((data, key) => each(key, op === 'add' ? data : undefined));
    else {
      for (const key of c.keys) {
        const data = op === 'add' ? c.set.elements.get(key) : undefined;
        if (op === 'add' && data === undefined) throw new BatchEncodeError(`no element ${key} in ${c.set.name}`);
        each(key, data);
      }
    }
    out.finish();
  }
}

/** BATCH_BEGIN or BATCH_END. */
export function batchMark(w: NlWriter, type: typeof NFNL_MSG_BATCH_BEGIN | typeof NFNL_MSG_BATCH_END, seq: number): void {
  w.end(w.begin(type, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES));
}

/**
 * Deletes, then adds, in one batch. `check`: leave out BATCH_END, so the
 * kernel validates every message and then aborts (what `nft -c` does).
 */
export function elementBatch(table: string, deletes: ElementChange[], adds: ElementChange[], check: boolean): ElementBatch {
  for (const c of [...deletes, ...adds]) {
    if (!encodable(c.set)) throw new BatchEncodeError(`set ${c.set.name} (${c.set.keyType}) cannot be changed over netlink`);
  }
  let size = 64;
  for (const c of [...deletes, ...adds]) size += (c.keys === 'all' ? c.set.elements.size : c.keys.length) * 96;
  const w = new NlWriter(size);
  const messages: BatchMessage[] = [];
  let seq = 1;
  const next = () => seq++;
  batchMark(w, NFNL_MSG_BATCH_BEGIN, next());
  const encoders = new Map<NftSet, SetEncoder>();
  writeElements(w, table, 'delete', deletes, next, messages, encoders);
  writeElements(w, table, 'add', adds, next, messages, encoders);
  if (!check) batchMark(w, NFNL_MSG_BATCH_END, next());
  return { bytes: w.bytes(), messages };
}
