/**
 * The sequence table → the engine's nftables ruleset (netdev family, ingress
 * hooks). Pure and deterministic.
 *
 * Shape of the ruleset, per packet and pass (at most ~10 rules whatever the
 * number of services):
 *   in_<if>   hook chain per interface, policy drop. The IPv4 rules sit here
 *             directly: the engine's own traffic first, then (where devices
 *             send) the MAC dispatch, then one hash lookup per key shape
 *             without MAC. Each IPv4 rule carries nft's own `meta protocol ip`
 *             dependency, so no dispatch rule and goto go in front of them.
 *             IPv4 rows without MAC (with at least two key fields besides the
 *             interface) live in maps of their interface (v4_ddp_if_<if>),
 *             keyed without it: no 16-byte name copied, hashed and compared
 *             per lookup, and a hook chain looks up only the maps of the rows
 *             that arrive on its interface.
 *             IPv6 goes to p6/s6 (before the IPv4 rules when there are IPv6
 *             services, after them otherwise); ARP is accepted last.
 *   p6 / s6   the same for IPv6 (s6 with the MAC dispatch first)
 *   m4 / m6   one hash lookup per key shape with MAC: frames from a known
 *             device MAC jump here (the snd4/snd6 verdict maps)
 *   a_<hash>  action chains, shared by every row that does the same thing;
 *             one 96-bit payload write sets both MACs of a send
 * Every statement a packet meets costs (each nft expression ~4–8 ns in
 * nft_do_chain on the 2-vCPU VM, a lookup ~25 ns, the element counter ~25 ns
 * with its bh disable/enable): the shape before (dispatch goto, two MAC
 * writes, iifname in every key) spent ~300 ns per pass in nft against ~150 ns
 * for kernel IP forwarding. bench/ruleset-variants.ts measures variants of the
 * live ruleset.
 * A key shape is the set of fields a row matches (interface · [source MAC] ·
 * [source IP] · [destination IP] · [port]); each has one row map (exact keys,
 * hash) and, when needed, one interval map (prefixes and port ranges). Rows
 * with a port (destination-keyed) are looked up before rows without
 * (source-keyed), exact keys before ranges.
 * Exact shapes without MAC (the hook chains' own lookups, the hot path) are
 * DIRECT: their row map holds the verdict, and one lookup goes to the action
 * chain:
 *   <key> vmap @<shape>
 *   meta mark set <key> map @<shape>_o meta mark vmap @act
 * The second rule is the shape's overflow: a transaction that adds a goto
 * element makes the kernel re-validate every jump and goto element of the
 * table (~20 ms per 100k elements, 40–110 ms for a one-service change at
 * 100k services), so a diff puts new and changed rows there (an action id,
 * which the small act map turns into `goto a_<hash>`: a data-map change the
 * kernel does not re-validate, ~3 ms), and the next full apply moves them to
 * the direct map (datapath/overflow.ts). A packet that hits the direct map
 * never reaches its overflow rule. The renderer puts every row into the
 * direct map; act holds every action chain from the start, so an overflow
 * row that reuses an action adds no goto. Other shapes (MAC-keyed ones in
 * m4/m6, where a second rule per shape would take the worst pass past 10
 * rules; interval maps) keep the indirection in one rule:
 *   meta mark set <key> map @<shape> meta mark vmap @act
 * which costs ~20–25 ns per pass (meta mark set, the act lookup). Every
 * row-map element carries
 * its own counter: the row counter. Per-service values that cannot be shared
 * live in maps keyed like the row (rate-limit objects, NAT addresses), so
 * action chains stay shared across services.
 */
import type { Row, SequenceTable, Send, ServicePolicy } from './sequence-table.js';
import type { DataplaneFacts } from './render-facts.js';
import {
  objectKey,
  overflowName,
  type AclCounter,
  type ShareCounter,
  type NftChain,
  type NftObject,
  type NftSet,
  type RenderedRuleset,
  rowElements,
  type RowCounter,
  type RowElement,
  type RowRole,
  type UnresolvedHop,
} from './render-model.js';
import { addressInfo, canonicalAddress, familyOf, normalizeMac, parseSpan, spanText, type AddressInfo, type Family } from './render-addr.js';
import { aclBlocks } from './render-acl.js';

/** The set of the protocols a port-keyed row without a protocol of its own takes. */
export const L4_ANY = 'l4_tcp_udp';

export interface RenderOptions {
  /** The engine's own table (netdev family). */
  tableName: string;
}

export type RenderErrorCode = 'RENDER_AMBIGUOUS_KEY' | 'RENDER_MISSING_FACT' | 'RENDER_UNSUPPORTED' | 'RENDER_NO_POLICY';

export class RenderError extends Error {
  constructor(
    readonly code: RenderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

type Field = 'iif' | 'mac' | 'saddr' | 'daddr' | 'sport' | 'dport';

interface Shape {
  /** Verdict map name, e.g. v4_mddp (MAC, daddr, dport) or v4_s_r (saddr, interval). */
  name: string;
  family: Family;
  mac: boolean;
  fields: Field[];
  interval: boolean;
  keyExpr: string;
  keyType: string;
  /** Lookup order within its dispatch chain. */
  rank: number;
  /** The one interface whose rows the map holds (then not part of the key), or undefined: keyed by iifname. */
  iface?: string;
  /** Rows map straight to verdicts (goto the action chain), with an overflow map for rows added by a diff. */
  direct: boolean;
}

const ipKw = (f: Family) => (f === 4 ? 'ip' : 'ip6');
const addrType = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

function fieldExpr(f: Field, fam: Family): string {
  switch (f) {
    case 'iif':
      return 'iifname';
    case 'mac':
      return 'ether saddr';
    case 'saddr':
      return `${ipKw(fam)} saddr`;
    case 'daddr':
      return `${ipKw(fam)} daddr`;
    case 'sport':
      return 'th sport';
    case 'dport':
      return 'th dport';
  }
}

function fieldType(f: Field, fam: Family): string {
  if (f === 'iif') return 'ifname';
  if (f === 'mac') return 'ether_addr';
  if (f === 'saddr' || f === 'daddr') return addrType(fam);
  return 'inet_service';
}

const FIELD_BIT: Record<Field, number> = { iif: 1, mac: 2, saddr: 3, daddr: 4, sport: 5, dport: 6 };
const FIELD_CODE: Record<Field, string> = { iif: '', mac: 'm', saddr: 's', daddr: 'd', sport: 'sp', dport: 'dp' };

/** An interface name as a part of a map name: letters and digits stay, anything else becomes _<hex> (one to one). */
const ifTag = (iface: string) => iface.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);

function makeShape(fam: Family, fields: Field[], interval: boolean, iface?: string): Shape {
  const code = fields.map((f) => FIELD_CODE[f]).join('');
  const hasPort = fields.includes('sport') || fields.includes('dport');
  const destLike = fields.includes('daddr') ? 0 : 1;
  return {
    name: `v${fam}_${code || 'i'}${interval ? '_r' : ''}${iface !== undefined ? `_if_${ifTag(iface)}` : ''}`,
    iface,
    family: fam,
    mac: fields.includes('mac'),
    fields,
    interval,
    keyExpr: fields.map((f) => fieldExpr(f, fam)).join(' . '),
    keyType: fields.map((f) => fieldType(f, fam)).join(' . '),
    // ports before portless (destination-keyed before source-keyed), exact before interval, daddr before saddr.
    rank: (hasPort ? 0 : 8) + (interval ? 4 : 0) + destLike * 2,
    // Exact keys without MAC: the hook chains' own lookups. MAC-keyed shapes stay indirect: their lookups share the m4/m6
    // chain, where a second rule per shape would take the worst pass past 10 rules; interval maps are rarely the hot path.
    direct: !interval && !fields.includes('mac'),
  };
}

/** The receive key of a row as element keys (one, or two when the port lies outside its dynamic range). */
interface RowKey {
  shape: Shape;
  key: string;
  /** The key without the MAC component (reverse-NAT map key). */
  keyNoMac: string;
}

const portText = (lo: number, hi: number) => (lo === hi ? `${lo}` : `${lo}-${hi}`);
/** A mark as nft prints it. */
const markText = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Both MACs of a send in one statement: the destination and source fields are
 * the first 12 bytes of the frame, written as one 96-bit value (one payload
 * write instead of `ether daddr set … ether saddr set …`, two writes and two
 * register loads per send).
 */
export const macWrite = (dst: string, src: string) => `@ll,0,96 set 0x${dst.replace(/:/g, '')}${src.replace(/:/g, '')}`;

/** Deterministic short hash (cyrb53) of a chain body: action chains are named by what they do. */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

interface ResolvedSend {
  send: Send;
  iface: string;
  srcMac: string;
  dstMac: string;
  /** Address to write (undefined: keep the packet's own). */
  ip?: string;
  /** Port to write (undefined: keep the packet's own). */
  port?: number;
}

class Renderer {
  readonly objects = new Map<string, NftObject>();
  readonly sets = new Map<string, NftSet>();
  readonly actionChains = new Map<string, NftChain>();
  readonly bodies = new Map<string, string>();
  /** Action signature → action id: most rows repeat an action, and the signature is cheaper than the body. */
  readonly sigs = new Map<string, string>();
  readonly interned = new Map<string, number>();
  readonly sendIds = new Map<string, Map<string, Map<string, number>>>();
  nextSendId = 0;
  readonly shapes = new Map<string, Shape>();
  /** Shapes by receiving interface (undefined: the shared ones) and field signature. */
  readonly shapeCache = new Map<string | undefined, Map<number, Shape>>();
  readonly rows = new Map<string, RowCounter>();
  readonly aclCounters = new Map<string, AclCounter>();
  readonly shareCounters = new Map<string, ShareCounter>();
  readonly unresolved: UnresolvedHop[] = [];
  readonly hooks = new Set<string>();
  /** Device MACs per family and interface (frames from them take the MAC lookups). */
  readonly senders = new Map<Family, Map<string, Set<string>>>([
    [4, new Map()],
    [6, new Map()],
  ]);
  readonly policies = new Map<string, ServicePolicy>();
  /** Services whose client-in rows check the ACL: service → [rule text]. */
  readonly aclRule = new Map<string, string>();
  readonly macCache = new Map<string, string>();
  /** Rows repeat a few device lists and origins: one shared copy each (at 100k services per-row copies cost ~80 MB). */
  readonly deviceLists = new Map<string, readonly string[]>();
  readonly origins = new Map<string, string>();

  constructor(
    readonly table: string,
    readonly facts: DataplaneFacts,
  ) {}

  mac(value: string): string {
    let m = this.macCache.get(value);
    if (m === undefined) {
      m = normalizeMac(value);
      this.macCache.set(value, m);
    }
    return m;
  }

  set(name: string, keyType: string, dataType: string | undefined, interval: boolean, counter = false): NftSet {
    let s = this.sets.get(name);
    if (!s) {
      s = { name, keyType, dataType, interval, counter, elements: new Map() };
      this.sets.set(name, s);
    }
    return s;
  }

  object(o: NftObject): void {
    this.objects.set(objectKey(o), o);
  }

  shape(fam: Family, fields: Field[], interval: boolean, iface?: string): Shape {
    let sig = fam * 2 + (interval ? 1 : 0);
    for (const f of fields) sig = sig * 8 + FIELD_BIT[f];
    let cache = this.shapeCache.get(iface);
    if (!cache) this.shapeCache.set(iface, (cache = new Map()));
    const cached = cache.get(sig);
    if (cached) return cached;
    const probe = makeShape(fam, fields, interval, iface);
    const known = this.shapes.get(probe.name) ?? probe;
    this.shapes.set(known.name, known);
    cache.set(sig, known);
    return known;
  }

  /** Element keys of a row's receive side. */
  rowKeys(row: Row, fam: Family): RowKey[] {
    const r = row.receive;
    const forward = r.direction === 'forward';
    const fields: Field[] = ['iif'];
    // Keys are built as part lists and joined: a join gives a flat string, where
    // template concatenation gives a tree of cons strings (at 100k services the
    // kept keys weighed ~70 MB more as trees).
    const head = [`"${r.interface}"`];
    const headNoMac = [head[0]];
    let interval = false;
    if (r.srcMac) {
      fields.push('mac');
      head.push(this.mac(r.srcMac));
    }
    if (r.srcIp !== undefined) {
      const a = this.address(row, r.srcIp, fam);
      fields.push('saddr');
      head.push(a.text);
      headNoMac.push(a.text);
      if (!a.single) interval = true;
    }
    if (r.dstIp !== undefined) {
      const a = this.address(row, r.dstIp, fam);
      fields.push('daddr');
      head.push(a.text);
      headNoMac.push(a.text);
      if (!a.single) interval = true;
    }
    if (r.port) fields.push(forward ? 'dport' : 'sport');
    // IPv4 rows without MAC go to a map of their interface, looked up from its hook chain only: the key loses the
    // interface name (16 bytes copied, hashed and compared per packet and lookup) and each hook chain looks up only
    // the maps of rows that arrive there. MAC-keyed rows stay in shared maps behind the MAC dispatch, and so do
    // keys that would be left with one field (a single-field interval map is an rbtree of start and end elements,
    // which the netlink element writer and counter reader do not speak).
    const perIf = fam === 4 && !r.srcMac && fields.length > 2 ? r.interface : undefined;
    const keyFields = perIf === undefined ? fields : fields.slice(1);
    const from = perIf === undefined ? 0 : 1;
    const keyOf = (parts: string[], port?: string) => (port === undefined ? parts.slice(from) : [...parts.slice(from), port]).join(' . ');
    if (!r.port) return [{ shape: this.shape(fam, keyFields, interval, perIf), key: keyOf(head), keyNoMac: keyOf(headNoMac) }];
    const { port, range } = r.port;
    const keys: RowKey[] = [];
    if (!range || port < range.low || port > range.high) {
      keys.push({ shape: this.shape(fam, keyFields, interval, perIf), key: keyOf(head, String(port)), keyNoMac: keyOf(headNoMac, String(port)) });
    }
    if (range) {
      const p = portText(range.low, range.high);
      keys.push({ shape: this.shape(fam, keyFields, interval || range.low !== range.high, perIf), key: keyOf(head, p), keyNoMac: keyOf(headNoMac, p) });
    }
    return keys;
  }

  address(row: Row, value: string, fam: Family): AddressInfo {
    const a = addressInfo(value);
    if (a.family !== fam) throw new RenderError('RENDER_UNSUPPORTED', `row ${row.service} ${row.origin}: ${value} is not IPv${fam} like the service`);
    return a;
  }

  /** The destination MAC of a send, or why there is none yet. */
  destinationMac(s: Send): string | { reason: string } {
    if (s.mac) return this.mac(s.mac);
    if (s.nextHop !== undefined) {
      const m = this.facts.neighbors?.[s.interface]?.[s.nextHop];
      return m ? this.mac(m) : { reason: `next hop ${s.nextHop} on ${s.interface} is not resolved` };
    }
    if (s.mode === 'router') return { reason: `no MAC and no next hop for the router on ${s.interface}` };
    // A bridge leg: address the engine's own port on the device's far side, so the bridge forwards it across.
    const legs = s.device !== undefined ? this.facts.deviceLegs?.[s.device] : undefined;
    if (!legs || !legs.length) return { reason: `device ${s.device ?? '?'} has no MAC and its legs are unknown (facts.deviceLegs)` };
    const far = legs.length >= 2 ? (legs[0] === s.interface ? legs[legs.length - 1] : legs[0]) : legs[0];
    const m = this.facts.interfaceMacs[far];
    if (!m) throw new RenderError('RENDER_MISSING_FACT', `the MAC of engine interface ${far} (far side of ${s.device}) is not known (facts.interfaceMacs)`);
    return this.mac(m);
  }

  sourceMac(iface: string): string {
    const m = this.facts.interfaceMacs[iface];
    if (!m) throw new RenderError('RENDER_MISSING_FACT', `the MAC of engine interface ${iface} is not known (facts.interfaceMacs)`);
    return this.mac(m);
  }

  /**
   * The action chain of a row, named by its body; a reason instead when a hop
   * has no MAC yet. Sends that keep the packet as it came go first (copies),
   * so each later send only rewrites further. The first address rewrite of a
   * row looks its value up in a map keyed like the row (minus the MAC, which
   * earlier copies rewrite): NAT addresses are per service or per server, and
   * the map keeps the chain shared.
   */
  action(row: Pick<Row, 'service' | 'origin' | 'receive' | 'sends'>, policy: ServicePolicy, key: RowKey, clientIn: boolean, literalNat = false): { id: string; nat?: string } | { reason: string } {
    const r = row.receive;
    const forward = r.direction === 'forward';
    const origIp = forward ? r.dstIp : r.srcIp;
    const origIpText = origIp !== undefined ? addressInfo(origIp).text : undefined;
    const origPort = r.port?.port;
    const portVaries = !!r.port?.range;

    const sends: ResolvedSend[] = [];
    for (const s of row.sends) {
      const dst = this.destinationMac(s);
      if (typeof dst !== 'string') return dst;
      const ipText = s.ip !== undefined ? addressInfo(s.ip).text : undefined;
      const wantIp = ipText !== undefined && ipText !== origIpText ? ipText : undefined;
      const wantPort = s.port !== undefined && s.port !== origPort ? s.port : undefined;
      if (wantPort !== undefined && portVaries) {
        throw new RenderError('RENDER_UNSUPPORTED', `row ${row.service} ${row.origin}: a dynamic port range cannot be translated (to ${s.port})`);
      }
      sends.push({ send: s, iface: s.interface, srcMac: this.sourceMac(s.interface), dstMac: dst, ip: wantIp, port: wantPort });
    }
    if (!sends.length) return { reason: 'the row has no send' };
    const ordered = sends.some((s) => s.ip !== undefined || s.port !== undefined)
      ? [...sends.filter((s) => s.ip === undefined && s.port === undefined), ...sends.filter((s) => s.ip !== undefined || s.port !== undefined)]
      : sends;

    // Plan the statements per send: "" keep, "@" map lookup, "=X" write X.
    let natValue: string | undefined;
    let curIp: string | undefined;
    let curPort: number | undefined;
    const plan: string[] = [];
    for (const s of ordered) {
      let ipStep = '';
      if (s.ip !== curIp) {
        if (s.ip === undefined) {
          if (origIp === undefined || !addressInfo(origIp).single) {
            throw new RenderError('RENDER_UNSUPPORTED', `row ${row.service} ${row.origin}: cannot restore the address for a later send`);
          }
          ipStep = `=${origIpText}`;
        } else if (curIp === undefined && curPort === undefined && !literalNat) {
          ipStep = '@';
          natValue = s.ip;
        } else ipStep = `=${s.ip}`;
        curIp = s.ip;
      }
      let portStep = '';
      if (s.port !== curPort) {
        const value = s.port ?? origPort;
        if (value === undefined || (s.port === undefined && portVaries)) {
          throw new RenderError('RENDER_UNSUPPORTED', `row ${row.service} ${row.origin}: cannot restore the port for a later send`);
        }
        portStep = `=${value}`;
        curPort = s.port;
      }
      plan.push(ipStep || portStep ? `${ipStep}|${portStep}` : '|');
    }
    const acl = clientIn ? this.aclRule.get(policy.service) : undefined;
    const limit = clientIn && policy.rateLimit !== undefined;
    let sig = `${key.shape.name} ${forward ? 'f' : 'r'}${r.protocol} ${acl ? this.intern(acl) : ''} ${limit ? 'L' : ''} ${policy.dscp ?? ''}`;
    for (let i = 0; i < ordered.length; i++) sig += ` ${this.sendId(ordered[i], plan[i])}`;
    let id = this.sigs.get(sig);
    if (id === undefined) {
      id = this.chainFor(this.actionRules(policy.family, key.shape, forward, r.protocol, acl, limit, policy.dscp, ordered, plan));
      this.sigs.set(sig, id);
    }
    return { id, nat: natValue };
  }

  /**
   * The action of a load-shared row: one chain per row whose single rule
   * hashes the client address into the row's buckets, counts the packet on
   * the chosen member's counter and goes to that member's action chain. The
   * member chains write the member's NAT address literally (the NAT map is
   * keyed by the row, which all members share).
   */
  shareAction(row: Row, rowId: string, policy: ServicePolicy, key: RowKey, clientIn: boolean): { id: string; nat?: string } | { reason: string } {
    const share = row.share!;
    const chains = new Map<string, string>();
    const counters = new Map<string, string>();
    for (const m of share.members) {
      const act = this.action({ service: row.service, origin: row.origin, receive: row.receive, sends: m.sends }, policy, key, clientIn, true);
      if ('reason' in act) return act;
      chains.set(m.device, this.actions().elements.get(act.id)!);
      const name = `share/${rowId}/${m.device}`;
      counters.set(m.device, name);
      this.object({ type: 'counter', name, spec: '' });
      this.shareCounters.set(name, { name, row: rowId, service: row.service, device: m.device });
    }
    const hash = `jhash ${ipKw(policy.family)} ${share.by} mod ${share.buckets.length} seed 0x${share.seed.toString(16).padStart(8, '0')}`;
    const pick = (f: (d: string) => string) => share.buckets.map((d, b) => `${b} : ${f(d)}`).join(', ');
    return { id: this.chainFor([`counter name ${hash} map { ${pick((d) => `"${counters.get(d)}"`)} } ${hash} vmap { ${pick((d) => chains.get(d)!)} }`]) };
  }

  /** A small number for a string (interned: repeated lookups hash the same string object). */
  intern(text: string): number {
    let n = this.interned.get(text);
    if (n === undefined) this.interned.set(text, (n = this.interned.size));
    return n;
  }

  /** A small number for one planned send (interface, destination MAC, rewrites), looked up by the row's own strings. */
  sendId(s: ResolvedSend, step: string): number {
    let byMac = this.sendIds.get(s.iface);
    if (!byMac) this.sendIds.set(s.iface, (byMac = new Map()));
    let bySteps = byMac.get(s.dstMac);
    if (!bySteps) byMac.set(s.dstMac, (bySteps = new Map()));
    let id = bySteps.get(step);
    if (id === undefined) bySteps.set(step, (id = this.nextSendId++));
    return id;
  }

  actionRules(
    fam: Family,
    shape: Shape,
    forward: boolean,
    proto: Row['receive']['protocol'],
    acl: string | undefined,
    limit: boolean,
    dscp: number | undefined,
    ordered: ResolvedSend[],
    plan: string[],
  ): string[] {
    const ip = ipKw(fam);
    const afield = forward ? 'daddr' : 'saddr';
    const pfield = forward ? 'dport' : 'sport';
    const needsL4 = plan.some((p) => p.split('|')[1] !== '');
    const variants: ('tcp' | 'udp' | 'any')[] = needsL4 ? (proto === 'any' ? ['tcp', 'udp'] : [proto]) : [proto];
    const rules: string[] = [];
    if (acl) rules.push(acl);
    for (const v of variants) {
      const st: string[] = [v === 'any' ? `meta l4proto @${L4_ANY}` : `meta l4proto ${v}`];
      // A named set rather than `{ tcp, udp }`: an anonymous set would be created with every new action
      // chain, which keeps such chains out of a diff of our own netlink messages (datapath/netlink-chains.ts).
      if (v === 'any') this.set(L4_ANY, 'inet_proto', undefined, false).elements.set('tcp', '').set('udp', '');
      if (limit) st.push(`limit name ${shape.keyExpr} map @${shape.name}_lim`);
      if (dscp !== undefined) st.push(`${ip} dscp set ${dscp}`);
      ordered.forEach((s, i) => {
        const [ipStep, portStep] = plan[i].split('|');
        if (ipStep === '@') st.push(`${ip} ${afield} set ${natKeyExpr(shape)} map @${natMapName(shape)}`);
        else if (ipStep) st.push(`${ip} ${afield} set ${ipStep.slice(1)}`);
        if (portStep) st.push(`${v} ${pfield} set ${portStep.slice(1)}`);
        st.push(macWrite(s.dstMac, s.srcMac), i === ordered.length - 1 ? `fwd to "${s.iface}"` : `dup to "${s.iface}"`);
      });
      rules.push(st.join(' '));
    }
    rules.push('drop');
    return rules;
  }

  /** The action id (a mark, in the act map) of a chain with these rules; the chain is created on first use. */
  chainFor(rules: string[]): string {
    const body = rules.join('\n');
    let id = this.bodies.get(body);
    if (id === undefined) {
      const hash = hash53(body);
      const name = `a_${hash}`;
      if (this.actionChains.has(name)) throw new RenderError('RENDER_UNSUPPORTED', `action chain name clash ${name}`);
      this.actionChains.set(name, { name, kind: 'action', rules });
      // The id is the low 32 bits of the body hash: stable across renders, so unchanged rows keep their data.
      let n = parseInt(hash.slice(-8), 16);
      const act = this.actions();
      for (;;) {
        if (n > 1) {
          id = markText(n);
          if (!act.elements.has(id)) break;
        }
        n = (n + 1) >>> 0;
      }
      act.elements.set(id, `goto ${name}`);
      this.bodies.set(body, id);
    }
    return id;
  }

  actions(): NftSet {
    return this.set('act', 'mark', 'verdict', false);
  }

  /** The action id of rows that cannot be sent yet (unresolved next hop): a counted drop. */
  dropId(): string {
    const id = markText(1);
    this.actions().elements.set(id, 'drop');
    return id;
  }

  addElement(set: NftSet, key: string, data: string, owner: string): void {
    const had = set.elements.get(key);
    if (had !== undefined) {
      if (had === data) return;
      throw new RenderError('RENDER_AMBIGUOUS_KEY', `${owner} and ${this.ownerOf(set.name, key)} share the key ${key} in ${set.name} with different results`);
    }
    set.elements.set(key, data);
  }

  /** The row that put an element into a map (searched only when there is a conflict to report). */
  ownerOf(map: string, key: string): string {
    for (const row of this.rows.values()) if (rowElements(row).some((e) => e.map === map && e.key === key)) return row.id;
    return 'another row';
  }

  prepareAcl(policy: ServicePolicy): void {
    if (!policy.acl.rules.length && policy.acl.defaultAction === 'permit') return;
    const fam = policy.family;
    const ip = ipKw(fam);
    const source = policy.keyedBy === 'source';
    const universe = source ? parseSpan(policy.address) : { family: fam, lo: 0n, hi: (1n << BigInt(fam === 4 ? 32 : 128)) - 1n };
    const blocks = aclBlocks(policy, universe);
    if (!blocks.length) return;
    const base = source ? `acls${fam}` : `acl${fam}`;
    const keyExpr = source ? `iifname . ${ip} saddr` : `iifname . ${ip} daddr . th dport . ${ip} saddr`;
    const keyType = source ? `ifname . ${addrType(fam)}` : `ifname . ${addrType(fam)} . inet_service . ${addrType(fam)}`;
    const verdicts = this.set(base, keyType, 'verdict', true);
    const counters = this.set(`${base}_cnt`, keyType, 'counter', true);
    const prefixes: string[] = [];
    if (source) prefixes.push(`"${policy.clientInterface}"`);
    else {
      const w = canonicalAddress(policy.address);
      for (const p of policy.ports) {
        const { port, range } = p;
        if (!range || port < range.low || port > range.high) prefixes.push(`"${policy.clientInterface}" . ${w} . ${port}`);
        if (range) prefixes.push(`"${policy.clientInterface}" . ${w} . ${portText(range.low, range.high)}`);
      }
    }
    for (const b of blocks) {
      const text = spanText(fam, b.lo, b.hi);
      const counter = b.counter!;
      for (const pre of prefixes) {
        const key = `${pre} . ${text}`;
        this.addElement(verdicts, key, b.action === 'deny' ? 'drop' : 'continue', `ACL of ${policy.service}`);
        this.addElement(counters, key, `"${counter}"`, `ACL of ${policy.service}`);
      }
      if (!this.aclCounters.has(counter)) {
        this.aclCounters.set(counter, { name: counter, service: policy.service, rule: b.counter === `acl/${policy.service}/deny` ? 'deny' : b.rule! });
        this.object({ type: 'counter', name: counter, spec: '' });
      }
    }
    this.aclRule.set(policy.service, `counter name ${keyExpr} map @${base}_cnt ${keyExpr} vmap @${base}`);
  }

  render(table: SequenceTable): void {
    for (const p of table.services) {
      this.policies.set(p.service, p);
      this.prepareAcl(p);
    }
    for (const i of this.facts.interfaces ?? []) this.hooks.add(i);
    const roles = rowRoles(table.rows);
    const rows = table.rows;
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index];
      const policy = this.policies.get(row.service);
      if (!policy) throw new RenderError('RENDER_NO_POLICY', `row ${index} names service ${row.service}, which has no policy`);
      const fam = policy.family;
      const role = roles[index];
      // Joined, not concatenated: a flat string (see rowKeys).
      const base = [row.service, row.servicePort ?? '-', row.member !== undefined ? `${role.label}.${row.member}` : role.label].join('/');
      let id = base;
      for (let n = 1; this.rows.has(id); n++) id = [base, n].join('.');
      const keys = this.rowKeys(row, fam);
      this.hooks.add(row.receive.interface);
      const clientIn = role.role === 'in';
      const elements: RowElement[] = [];
      for (const k of keys) {
        const act = row.share ? this.shareAction(row, id, policy, k, clientIn) : this.action(row, policy, k, clientIn);
        let data: string;
        if ('reason' in act) {
          data = this.dropId();
          if (k === keys[0]) this.unresolved.push({ row: id, service: row.service, interface: row.receive.interface, reason: act.reason });
        } else data = act.id;
        const s = this.set(k.shape.name, k.shape.keyType, k.shape.direct ? 'verdict' : 'mark', k.shape.interval, true);
        this.addElement(s, k.key, k.shape.direct ? this.actions().elements.get(data)! : data, id);
        elements.push({ map: s.name, key: k.key });
        if (k.shape.mac) this.sender(fam, row.receive.interface, row.receive.srcMac!);
        if ('reason' in act) continue;
        if (clientIn && policy.rateLimit) {
          const { packetsPerSecond: pps, burst } = policy.rateLimit;
          const lim = `lim/${policy.service}/${pps}/${burst}`;
          this.object({ type: 'limit', name: lim, spec: `rate ${pps}/second burst ${burst} packets` });
          this.addElement(this.set(`${k.shape.name}_lim`, k.shape.keyType, 'limit', k.shape.interval), k.key, `"${lim}"`, id);
        }
        if (act.nat !== undefined) {
          const ns = natShape(k.shape);
          this.addElement(this.set(natMapName(k.shape), ns.keyType, addrType(fam), k.shape.interval), k.keyNoMac, act.nat, id);
        }
      }
      const counter: RowCounter = {
        id,
        service: row.service,
        servicePort: row.servicePort,
        direction: row.receive.direction,
        fromStep: row.fromStep,
        origin: this.shared(this.origins, row.origin, row.origin),
        role: role.role,
        devices: this.deviceList(row.share ? row.share.members.flatMap((m) => m.sends) : row.sends),
        map: elements[0].map,
        key: elements[0].key,
      };
      if (elements.length > 1) counter.more = elements.slice(1);
      this.rows.set(id, counter);
    }
    checkIntervalOverlaps(this.sets, (m, k) => this.ownerOf(m, k));
  }

  shared<T>(pool: Map<string, T>, key: string, value: T): T {
    const had = pool.get(key);
    if (had !== undefined) return had;
    pool.set(key, value);
    return value;
  }

  /** The devices a row delivers to (copies included), shared between rows with the same list. */
  deviceList(sends: readonly { device?: string }[]): readonly string[] {
    const devices: string[] = [];
    for (const snd of sends) if (snd.device !== undefined) devices.push(snd.device);
    return this.shared(this.deviceLists, devices.join('\n'), devices.slice());
  }

  /** Remember a device MAC on an interface: frames from it jump to the MAC lookups. */
  sender(fam: Family, iface: string, mac: string): void {
    const byIf = this.senders.get(fam)!;
    let macs = byIf.get(iface);
    if (!macs) byIf.set(iface, (macs = new Set()));
    macs.add(mac);
  }

  dispatchChains(): NftChain[] {
    const chains: NftChain[] = [];
    const local = this.facts.local;
    const localByFam = new Map<Family, string[]>([
      [4, []],
      [6, []],
    ]);
    for (const a of local?.addresses ?? []) {
      const addr = a.split('/')[0];
      const f = familyOf(addr);
      if (f) localByFam.get(f)!.push(canonicalAddress(addr));
    }
    if (local?.nd) localByFam.get(6)!.push('fe80::/10', 'ff02::/16');
    const viaMac = new Map<4 | 6, Set<string>>([
      [4, new Set()],
      [6, new Set()],
    ]);
    /** IPv4 rules of a hook chain (inlined there): the head, the MAC dispatch where devices send, the lookups. */
    const v4 = { head: [] as string[], snd: '', lookups: new Map<string | undefined, string[]>() };
    for (const fam of [4, 6] as const) {
      const shapes = [...this.shapes.values()].filter((s) => s.family === fam).sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1));
      // Indirect maps hold action ids: adding a row is then a data-map change the kernel does not re-validate.
      // A direct map goes straight to the action chain; its overflow (rows a diff added, see render-model
      // overflowName) is looked up right after it, so the rank order between shapes holds for both.
      const indirect = (s: Shape, name: string) => `meta mark set ${s.keyExpr} map @${name} meta mark vmap @act`;
      const lookup = (s: Shape): string[] => {
        if (!s.direct) return [indirect(s, s.name)];
        const o = overflowName(s.name);
        this.set(o, s.keyType, 'mark', false, true);
        return [`${s.keyExpr} vmap @${s.name}`, indirect(s, o)];
      };
      const m: NftChain = { name: `m${fam}`, kind: 'dispatch', rules: shapes.filter((s) => s.mac).flatMap(lookup) };
      const head: string[] = [];
      const locals = [...new Set(localByFam.get(fam))];
      if (locals.length) {
        const ls = this.set(`local${fam}`, addrType(fam), undefined, true);
        for (const a of locals) ls.elements.set(a, '');
        head.push(`${ipKw(fam)} daddr @local${fam} accept`);
      }
      // DHCP requests come from 0.0.0.0 to the broadcast address: no local address names them.
      // `meta protocol ip`: these rules sit in the hook chains, which IPv6 packets pass first.
      if (fam === 4 && local?.dhcp) head.push('meta protocol ip udp dport 67 accept');
      const tail = shapes.filter((s) => !s.mac).flatMap(lookup);
      chains.push(m);
      if (fam === 6) chains.push({ name: 'p6', kind: 'dispatch', rules: [...head, ...tail] });
      else {
        v4.head = head;
        // Per hook chain: the shared maps and those of its own interface, in rank order.
        for (const dev of this.hooks) v4.lookups.set(dev, shapes.filter((s) => !s.mac && (s.iface === undefined || s.iface === dev)).flatMap(lookup));
      }
      // Only interfaces where a device's frames arrive pay for the MAC dispatch: they enter s4/s6, the others p4/p6.
      const senders: string[] = [];
      for (const [iface, macs] of this.senders.get(fam)!) {
        for (const mac of macs) senders.push(`"${iface}" . ${this.mac(mac)}`);
        if (macs.size) viaMac.get(fam)!.add(iface);
      }
      if (senders.length) {
        const snd = this.set(`snd${fam}`, 'ifname . ether_addr', 'verdict', false);
        for (const k of senders.sort()) snd.elements.set(k, `jump m${fam}`);
        if (fam === 6) chains.push({ name: 's6', kind: 'dispatch', rules: [...head, 'iifname . ether saddr vmap @snd6', ...tail] });
        else v4.snd = 'meta protocol ip iifname . ether saddr vmap @snd4';
      }
    }
    // IPv4 in the hook chain itself: every IPv4 rule carries its own `meta protocol ip` dependency (nft adds it to
    // `ip daddr`, `ip saddr`), so a dispatch rule and a goto in front of them only cost time. IPv6 goes to p6/s6:
    // after the IPv4 rules (each fails on its dependency) when only the engine's own IPv6 traffic is expected,
    // before them when there are IPv6 services (their packets would otherwise pass every IPv4 rule).
    const v6Services = [...this.shapes.values()].some((s) => s.family === 6);
    for (const dev of [...this.hooks].sort()) {
      const v6 = `meta protocol ip6 goto ${viaMac.get(6)!.has(dev) ? 's6' : 'p6'}`;
      const v4Rules = [...v4.head, ...(viaMac.get(4)!.has(dev) ? [v4.snd] : []), ...v4.lookups.get(dev)!];
      const rules = v6Services ? [v6, ...v4Rules] : [...v4Rules, v6];
      if (local?.arp) rules.push('meta protocol arp accept');
      chains.push({ name: `in_${dev}`, kind: 'hook', device: dev, rules });
    }
    return chains;
  }
}

function natShape(s: Shape): { keyType: string; keyExpr: string; code: string } {
  const fields = s.fields.filter((f) => f !== 'mac');
  return {
    keyType: fields.map((f) => fieldType(f, s.family)).join(' . '),
    keyExpr: fields.map((f) => fieldExpr(f, s.family)).join(' . '),
    code: fields.map((f) => FIELD_CODE[f]).join(''),
  };
}

const natKeyExpr = (s: Shape) => natShape(s).keyExpr;
const natMapName = (s: Shape) => (s.iface !== undefined ? `${s.name}_nat` : `v${s.family}_${natShape(s).code || 'i'}${s.interval ? '_r' : ''}_nat`);

/**
 * Each row's role: "in" (the client's packets entering the chain: forward from
 * step 0), "out" (delivered back to the client: the reverse row from the first
 * device, or from the upstream when the chain has no device), else a hop named
 * by direction and the step the packet comes from ("f2", "r3", "r-1").
 */
function rowRoles(rows: Row[]): { role: RowRole; label: string }[] {
  // service → port → step of the "out" row; keyed by the row's own strings and numbers (no string building).
  const outStep = new Map<string, Map<number | undefined, number>>();
  for (const r of rows) {
    if (r.receive.direction !== 'reverse') continue;
    let byPort = outStep.get(r.service);
    if (!byPort) outStep.set(r.service, (byPort = new Map()));
    const cur = byPort.get(r.servicePort);
    if (cur === undefined || (r.fromStep > 0 && (cur <= 0 || r.fromStep < cur))) byPort.set(r.servicePort, r.fromStep);
  }
  const IN = { role: 'in' as const, label: 'in' };
  const OUT = { role: 'out' as const, label: 'out' };
  const hops = new Map<string, { role: RowRole; label: string }>();
  return rows.map((r) => {
    if (r.receive.direction === 'forward' && r.fromStep === 0) return IN;
    if (r.receive.direction === 'reverse' && outStep.get(r.service)?.get(r.servicePort) === r.fromStep) return OUT;
    const label = `${r.receive.direction === 'forward' ? 'f' : 'r'}${r.fromStep}`;
    let h = hops.get(label);
    if (!h) hops.set(label, (h = { role: 'hop', label }));
    return h;
  });
}

/** One key component as a closed interval, for the overlap check. */
function componentSpan(text: string): [bigint, bigint] | string {
  if (text.startsWith('"')) return text;
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(text)) return text;
  if (/^\d+(-\d+)?$/.test(text)) {
    const [a, b] = text.split('-');
    return [BigInt(a), BigInt(b ?? a)];
  }
  const dash = text.indexOf('-');
  if (dash > 0 && !text.includes('/')) {
    const lo = parseSpan(text.slice(0, dash));
    const hi = parseSpan(text.slice(dash + 1));
    return [lo.lo, hi.hi];
  }
  const s = parseSpan(text);
  return [s.lo, s.hi];
}

/** nft rejects overlapping elements of an interval map; say which rows collide instead. */
function checkIntervalOverlaps(sets: Map<string, NftSet>, owner: (map: string, key: string) => string): void {
  for (const s of sets.values()) {
    if (!s.interval || !s.counter) continue;
    const groups = new Map<string, { key: string; parts: ([bigint, bigint] | string)[] }[]>();
    for (const key of s.elements.keys()) {
      const parts = key.split(' . ').map(componentSpan);
      const exact = parts.filter((p) => typeof p === 'string').join(' ');
      const list = groups.get(exact) ?? [];
      for (const other of list) {
        const overlap = parts.every((p, i) => {
          const q = other.parts[i];
          if (typeof p === 'string' || typeof q === 'string') return p === q;
          return p[0] <= q[1] && q[0] <= p[1];
        });
        if (overlap) {
          throw new RenderError(
            'RENDER_AMBIGUOUS_KEY',
            `${owner(s.name, key)} and ${owner(s.name, other.key)} overlap in ${s.name}: ${key} / ${other.key}`,
          );
        }
      }
      list.push({ key, parts });
      groups.set(exact, list);
    }
  }
}

function maxRulesPerPass(chains: Map<string, NftChain>): number {
  // A steered packet leaves by the last rule it matches: an action chain's closing drop is met only by packets it drops.
  let action = 0;
  let share = 0;
  for (const c of chains.values()) {
    if (c.kind !== 'action') continue;
    // A load-shared row's chain is one rule that goes on to a member's chain.
    if (c.rules.length === 1 && c.rules[0].startsWith('counter name jhash')) share = 1;
    else action = Math.max(action, c.rules.length - 1);
  }
  action += share;
  let worst = 0;
  const m4 = chains.get('m4')?.rules.length ?? 0;
  const m6 = chains.get('m6')?.rules.length ?? 0;
  for (const c of chains.values()) {
    if (c.kind !== 'hook') continue;
    // The IPv4 lookups are inlined; the IPv6 goto comes before or after them.
    const v6 = c.rules.findIndex((r) => r.startsWith('meta protocol ip6 goto'));
    let v4 = 0;
    c.rules.forEach((r, i) => {
      if (i !== v6 && r !== 'meta protocol arp accept') v4 = i + 1;
    });
    const snd4 = c.rules.findIndex((r) => r.includes('@snd4'));
    worst = Math.max(worst, v4 + action, snd4 >= 0 ? snd4 + 1 + m4 + action : 0);
    if (v6 < 0) continue;
    const target = chains.get(c.rules[v6].split(' ').pop()!)?.rules ?? [];
    const snd6 = target.findIndex((r) => r.includes('@snd6'));
    worst = Math.max(worst, v6 + 1 + target.length + action, snd6 >= 0 ? v6 + 1 + snd6 + 1 + m6 + action : 0);
  }
  return worst;
}

/** Render the sequence table into the engine's table. Throws RenderError on a table it cannot express. */
export function renderRuleset(table: SequenceTable, facts: DataplaneFacts, options: RenderOptions): RenderedRuleset {
  const t0 = performance.now();
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(options.tableName)) throw new RenderError('RENDER_UNSUPPORTED', `bad table name ${options.tableName}`);
  const r = new Renderer(options.tableName, facts);
  r.render(table);
  const chains = new Map<string, NftChain>();
  for (const c of r.actionChains.values()) chains.set(c.name, c);
  for (const c of r.dispatchChains()) chains.set(c.name, c);
  const sets = new Map([...r.sets.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  const objects = new Map([...r.objects.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  let elements = 0;
  for (const s of sets.values()) elements += s.elements.size;
  return {
    family: 'netdev',
    table: options.tableName,
    objects,
    sets,
    chains,
    rows: r.rows,
    aclCounters: r.aclCounters,
    shareCounters: r.shareCounters,
    unresolved: r.unresolved,
    stats: {
      rows: table.rows.length,
      elements,
      actionChains: r.actionChains.size,
      maxRulesPerPass: maxRulesPerPass(chains),
      renderMs: performance.now() - t0,
    },
  };
}
