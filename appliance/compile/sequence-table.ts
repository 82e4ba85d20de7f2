/**
 * The sequence table (SPEC §2, §5): what the data plane runs. Each row says how
 * to recognise a packet arriving at the engine and where to send it next.
 */
import type { DeliveryMode, Protocol } from '../model/config.generated.js';

export type Direction = 'forward' | 'reverse';

/** A single port, optionally widened by the dynamic range the service port owns. */
export interface PortMatch {
  port: number;
  range?: { low: number; high: number };
}

export interface Receive {
  interface: string;
  /** Source MAC of the frame; absent when the sender is the uplink or a bridge leg. */
  srcMac?: string;
  /** Source address or prefix to match (reverse rows of a destination-keyed service; source-keyed forward rows). */
  srcIp?: string;
  /** Destination address or prefix to match. */
  dstIp?: string;
  /**
   * Service port: the destination port on forward rows, the source port on
   * reverse rows. Absent on source-keyed rows (any port).
   */
  port?: PortMatch;
  protocol: Protocol;
  direction: Direction;
}

export interface Send {
  interface: string;
  mode: DeliveryMode;
  /** Destination MAC; absent for a bridge leg or a router resolved by ARP/ND. */
  mac?: string;
  /**
   * The address the packet carries toward that hop: the destination on forward
   * rows (service IP, or the device IP for nat), the source on reverse rows.
   * Absent toward a router on reverse rows ("default route").
   */
  ip?: string;
  /**
   * The service port the packet carries toward that hop (destination port
   * forward, source port reverse). The data plane rewrites the port only when
   * it differs from the receive key's port (translation, Fig 8); a packet
   * matched by a dynamic range keeps its own port.
   */
  port?: number;
  /** Next-hop IP for a router send, resolved to a MAC by the data plane when mac is absent. */
  nextHop?: string;
  /** A copy to a tap: the packet also continues to the row's other sends. */
  copy: boolean;
  /** The device the packet is delivered to (absent for the default route of an uplink). */
  device?: string;
}

/**
 * Load sharing (a pool with load-sharing): the row's packet goes to one of
 * several members, chosen by a hash of the client address (the source on
 * forward rows, the destination on reverse rows) into a fixed number of
 * buckets, so both directions of a flow land in the same bucket and member.
 */
export interface Share {
  /** Which address is the client's on this row. */
  by: 'saddr' | 'daddr';
  /** The jhash seed (the pool's; the same on forward and reverse rows). */
  seed: number;
  /** Member device per bucket; a failed member's buckets are dealt to the others. */
  buckets: string[];
  /** Each usable member with the sends the row makes when the hash picks it (row.sends are the first member's). */
  members: { device: string; sends: Send[] }[];
}

export interface Row {
  service: string;
  /** The service port's key (its port number); absent on source-keyed services. */
  servicePort?: number;
  /** Seq of the step the packet comes from: 0 = the client side, -1 = the upstream router of a source-keyed chain. */
  fromStep: number;
  /** Where this row's key comes from, for messages: "client", "step 2 (fw1)", "tap ids1 of step 3". */
  origin: string;
  receive: Receive;
  sends: Send[];
  /** Present when the next hop is a load-shared pool step. */
  share?: Share;
  /** The member the row comes from, when that step is load-shared (names the row's counter). */
  member?: string;
}

export interface AclRule {
  seq: number;
  action: 'permit' | 'deny';
  source: string;
  count: boolean;
}

/** Per-service policy the data plane applies before steering. */
export interface ServicePolicy {
  service: string;
  customer?: string;
  keyedBy: 'destination' | 'source';
  /** The service IP (destination-keyed) or client prefix (source-keyed). */
  address: string;
  family: 4 | 6;
  /** Interface the service's clients arrive on. */
  clientInterface: string;
  ports: PortMatch[];
  dscp?: number;
  rateLimit?: { packetsPerSecond: number; burst: number };
  acl: { defaultAction: 'permit' | 'deny'; rules: AclRule[] };
  /** Why the service is not steered, when it is not. */
  unavailable?: string;
  /** The devices a pool step resolved to, step seq → device. */
  resolved: Record<string, string>;
}

export interface SequenceTable {
  rows: Row[];
  services: ServicePolicy[];
}
