/**
 * A diff that adds or deletes action chains besides its elements (a service
 * behind a device no running service uses: its MACs are in a new action
 * chain, which its `act` and sender-map elements name) as one netlink
 * transaction of our own instead of an nft script.
 *
 * Why: nft fetches every named object of the table before it adds an element
 * (its cache for `add element`), ~20k limit objects at 100k services: ~100 ms
 * per nft run, twice per commit (check, apply), whatever the change. The new
 * chains are compiled by nft in the dormant scratch table (netlink-full.ts:
 * nft stays the only compiler of rule text), dumped, and copied into the
 * transaction with the element changes; the kernel applies it atomically or
 * not at all.
 *
 * Order inside the transaction, like diff.ts's script: new objects, new
 * chains, their rules, element deletes, element adds, chains nothing names
 * any more, objects nothing names any more.
 */
import type { NftObject, NftSet } from '../compile/render-model.js';
import type { BatchMessage, ElementBatch, ElementChange } from './netlink-batch.js';
import { batchMark, writeElements } from './netlink-batch.js';
import { BatchEncodeError, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFPROTO_NETDEV, NFT_MSG, nftType, NLM_F_ACK, NLM_F_REQUEST, NlWriter, type SetEncoder } from './netlink-encode.js';
import { copyMessage, encodableObject, messageName, writeObject, type Skeleton } from './netlink-full.js';

export interface ChainChange {
  /** Named objects to create first (counters, packet limits: what writeObject encodes) and to delete last. */
  addObjects: readonly NftObject[];
  delObjects: readonly NftObject[];
  /** Chains to create, as nft built them in the scratch table. */
  add: readonly string[];
  deletes: ElementChange[];
  adds: ElementChange[];
  /** Chains to delete, in an order in which each is no longer named by the ones left. */
  del: readonly string[];
}

/**
 * The transaction. A check leaves out BATCH_END and ends with a message that
 * fails (deleting a table that is not there): the kernel checks every message
 * (the chains' rules, elements, the chains their verdicts name), reports what
 * fails, then aborts without walking the table's jump graph, which at 100k
 * services takes ~15 ms and is done by the apply (atomic: a refusal there
 * changes nothing either). `sentinel` is that message's sequence number: its
 * error is expected.
 */
export function chainBatch(table: string, skeleton: Skeleton, change: ChainChange, check: boolean): ElementBatch & { sentinel?: number } {
  const wanted = new Set(change.add);
  // A rule's anonymous set (`{ tcp, udp }`) would need a fresh name and id in the engine's table; nft does that.
  const anonymous = skeleton.sets.map(messageName).find((n) => n.startsWith('__set'));
  if (anonymous !== undefined) throw new BatchEncodeError(`a new chain's rule uses an anonymous set (${anonymous})`);
  const chains = skeleton.chains.filter((m) => wanted.has(messageName(m)));
  if (chains.length !== wanted.size) {
    const built = new Set(chains.map(messageName));
    throw new BatchEncodeError(`the scratch table holds no chain ${change.add.filter((c) => !built.has(c)).join(', ')}`);
  }
  const rules = skeleton.rules.filter((m) => wanted.has(messageName(m)));
  for (const o of [...change.addObjects, ...change.delObjects]) {
    if (!encodableObject(o)) throw new BatchEncodeError(`${o.type} ${o.name} (${o.spec}) cannot be written over netlink`);
  }
  let size = 4096;
  for (const m of [...chains, ...rules]) size += m.end - m.start + 64;
  for (const c of [...change.deletes, ...change.adds]) size += (c.keys === 'all' ? c.set.elements.size : c.keys.length) * 96;
  const w = new NlWriter(size);
  const messages: BatchMessage[] = [];
  let seq = 1;
  const next = () => seq++;
  batchMark(w, NFNL_MSG_BATCH_BEGIN, next());
  for (const o of change.addObjects) {
    const s = next();
    writeObject(w, table, o, s);
    messages.push({ seq: s, op: 'add', set: `${o.type} ${o.name}`, elements: 0 });
  }
  for (const m of [...chains, ...rules]) copyMessage(w, m, table, next(), messages);
  const encoders = new Map<NftSet, SetEncoder>();
  writeElements(w, table, 'delete', change.deletes, next, messages, encoders);
  writeElements(w, table, 'add', change.adds, next, messages, encoders);
  for (const name of change.del) {
    const s = next();
    const at = w.begin(nftType(NFT_MSG.DELCHAIN), NLM_F_REQUEST | NLM_F_ACK, s, NFPROTO_NETDEV);
    w.str(1, table); // NFTA_CHAIN_TABLE
    w.str(3, name); // NFTA_CHAIN_NAME
    w.end(at);
    messages.push({ seq: s, op: 'delete', set: `chain ${name}`, elements: 0 });
  }
  for (const o of change.delObjects) {
    const s = next();
    const at = w.begin(nftType(NFT_MSG.DELOBJ), NLM_F_REQUEST | NLM_F_ACK, s, NFPROTO_NETDEV);
    w.str(1, table); // NFTA_OBJ_TABLE
    w.str(2, o.name); // NFTA_OBJ_NAME
    w.be32(3, o.type === 'counter' ? 1 : 4); // NFTA_OBJ_TYPE: NFT_OBJECT_COUNTER, NFT_OBJECT_LIMIT
    w.end(at);
    messages.push({ seq: s, op: 'delete', set: `${o.type} ${o.name}`, elements: 0 });
  }
  let sentinel: number | undefined;
  if (check) {
    sentinel = next();
    const at = w.begin(nftType(NFT_MSG.DELTABLE), NLM_F_REQUEST | NLM_F_ACK, sentinel, NFPROTO_NETDEV);
    w.str(1, `${table}__nothing`); // NFTA_TABLE_NAME
    w.end(at);
    messages.push({ seq: sentinel, op: 'delete', set: `table ${table}__nothing (the end of a check)`, elements: 0 });
  } else batchMark(w, NFNL_MSG_BATCH_END, next());
  return { bytes: w.bytes(), messages, sentinel };
}
