/**
 * Runtime facts the renderer needs beyond the sequence table: the engine's own
 * interface MACs (the source MAC of every frame it sends, and the destination
 * toward a bridge's far side), resolved next-hop MACs, and what the engine
 * itself accepts. The engine gathers them (datapath reads the kernel's MACs);
 * the renderer stays pure.
 */
import type { Config } from '../model/config.generated.js';

export interface LocalAccept {
  /** The engine's own addresses (a "/len" suffix is ignored): traffic to them is accepted before steering. */
  addresses?: string[];
  /** Accept ARP (so the engine's addresses answer ARP). */
  arp?: boolean;
  /** Accept IPv6 link-local and multicast destinations (neighbour discovery for the engine's addresses). */
  nd?: boolean;
  /** Accept DHCP requests (UDP to port 67): the engine serves DHCP on a device segment. */
  dhcp?: boolean;
}

export interface DataplaneFacts {
  /** MAC of each engine interface: the source MAC of frames sent through it, and the destination toward a bridge's far side. */
  interfaceMacs: Record<string, string>;
  /** Leg interfaces of each device in leg order (first leg faces the clients): a bridge's far side is its other leg. */
  deviceLegs?: Record<string, string[]>;
  /** Resolved neighbours per interface: next-hop IP → MAC, for router sends that carry a nextHop and no MAC. */
  neighbors?: Record<string, Record<string, string>>;
  /** Interfaces to hook even when no row receives on them (the policy drop applies to them too). */
  interfaces?: string[];
  /** Traffic for the engine itself. */
  local?: LocalAccept;
}

/** deviceLegs from a configuration: the compiler's devices, leg interfaces in order. */
export function deviceLegsOf(config: Config): Record<string, string[]> {
  const legs: Record<string, string[]> = {};
  for (const d of config.devices.device) legs[d.name] = d.leg.map((l) => l.interface);
  return legs;
}
