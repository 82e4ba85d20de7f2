/**
 * nftables rulesets the lab loads into its own namespaces (never the engine's:
 * the engine's ruleset belongs to the renderer).
 */
import { ipv6Bytes } from './frames.js';
import { isIpv6 } from './topology.js';
import type { LabPlan, Role } from './topology.js';

/** The firewall drops these, so tests can tell it is in the path. */
export const FW_BLOCKED = { udp: 9999, tcp: 8081 } as const;

export const FW_TABLE = 'vcnlab_fw';
export const OA_TABLE = 'vcnlab_oa';
export const QUIET_TABLE = 'vcnlab_quiet';
export const ALIAS_TABLE = 'vcnlab_alias';

/**
 * IPv6 stays on for the dual-stack tests, but hosts must not talk on their own:
 * MLD reports (sent even without a link-local address), router solicitations
 * and redirects would otherwise reach the engine ports, the bridge FDB and the
 * IDS recording. ARP is not needed here: every neighbour is permanent.
 */
const QUIET = `table inet ${QUIET_TABLE} {
  chain out {
    type filter hook output priority 0; policy accept;
    icmpv6 type { mld-listener-report, mld-listener-done, mld2-listener-report, nd-router-solicit, nd-redirect } drop
    icmp type redirect drop
  }
}
`;

/** Bridge-family rules: they see both directions of the bump in the wire. */
const FW = `table bridge ${FW_TABLE} {
  counter passed { }
  counter dropped_udp { }
  counter dropped_tcp { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    udp dport ${FW_BLOCKED.udp} counter name "dropped_udp" drop
    tcp dport ${FW_BLOCKED.tcp} counter name "dropped_tcp" drop
    counter name "passed"
  }
}
`;

/** Counts what the one-armed device routed back, so tests see it was visited. */
const OA = `table inet ${OA_TABLE} {
  counter forwarded { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    counter name "forwarded"
  }
}
`;

/**
 * IPv6 has no arp_ignore: an alias must not answer neighbour solicitations for
 * itself. The NS target address sits at bits 64..191 of the ICMPv6 header.
 */
function aliasNd(ips: string[]): string {
  const v6 = ips.filter(isIpv6);
  if (v6.length === 0) return '';
  const rules = v6.map((ip) => `    icmpv6 type nd-neighbor-solicit @th,64,128 0x${ipv6Bytes(ip).toString('hex')} drop`);
  return `table inet ${ALIAS_TABLE} {
  chain in {
    type filter hook input priority 0; policy accept;
${rules.join('\n')}
  }
}
`;
}

export function rulesetFor(plan: LabPlan, role: Role): string | null {
  switch (role) {
    case 'eng':
      return null;
    case 'fw':
      return FW;
    case 'oa':
      return QUIET + OA;
    case 'sal':
      return QUIET + aliasNd(plan.aliasIps);
    default:
      return QUIET;
  }
}

export interface NftCounter {
  family: string;
  table: string;
  name: string;
  packets: number;
  bytes: number;
}

/** Parses `nft -j list counters`. */
export function parseCounters(json: string): NftCounter[] {
  const doc = JSON.parse(json) as { nftables?: { counter?: NftCounter }[] };
  return (doc.nftables ?? []).flatMap((e) =>
    e.counter
      ? [
          {
            family: e.counter.family,
            table: e.counter.table,
            name: e.counter.name,
            packets: e.counter.packets,
            bytes: e.counter.bytes,
          },
        ]
      : [],
  );
}
