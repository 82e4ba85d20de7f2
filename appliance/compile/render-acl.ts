/**
 * A service's ACL (Fig 13) as disjoint client-address blocks, so that it fits
 * an nft interval map (which rejects overlapping elements): rules are taken in
 * seq order, the first rule that covers an address decides, the default action
 * covers the rest. Pure.
 */
import type { ServicePolicy } from './sequence-table.js';
import { parseSpan, type Span } from './render-addr.js';

export interface AclOutcome {
  action: 'permit' | 'deny';
  /** Named counter that counts the block, when the deciding rule counts (or the block is denied). */
  counter?: string;
  /** The deciding rule, absent for the default action. */
  rule?: number;
}

export interface AclBlock extends AclOutcome {
  lo: bigint;
  hi: bigint;
}

export const aclRuleCounterName = (service: string, seq: number): string => `acl/${service}/${seq}`;
export const aclDenyCounterName = (service: string): string => `acl/${service}/deny`;

/**
 * The blocks of `universe` that need an element: denied blocks and counted
 * blocks. Permitted, uncounted addresses need none (a lookup miss permits).
 */
export function aclBlocks(policy: ServicePolicy, universe: Span): AclBlock[] {
  const rules = [...policy.acl.rules].sort((a, b) => a.seq - b.seq);
  const spans = rules.map((r) => {
    const s = parseSpan(r.source);
    if (s.family !== universe.family) {
      throw new Error(`ACL rule ${r.seq} of service ${policy.service}: ${r.source} is not IPv${universe.family}`);
    }
    return { lo: s.lo > universe.lo ? s.lo : universe.lo, hi: s.hi < universe.hi ? s.hi : universe.hi, rule: r };
  });
  const cuts = new Set<bigint>([universe.lo, universe.hi + 1n]);
  for (const s of spans) {
    if (s.lo > s.hi) continue;
    cuts.add(s.lo);
    cuts.add(s.hi + 1n);
  }
  const bounds = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const outcomeOf = (lo: bigint): AclOutcome => {
    for (const s of spans) {
      if (s.lo <= lo && lo <= s.hi) {
        const counter = s.rule.count ? aclRuleCounterName(policy.service, s.rule.seq) : s.rule.action === 'deny' ? aclDenyCounterName(policy.service) : undefined;
        return { action: s.rule.action, counter, rule: s.rule.seq };
      }
    }
    const action = policy.acl.defaultAction;
    return { action, counter: action === 'deny' ? aclDenyCounterName(policy.service) : undefined };
  };
  const blocks: AclBlock[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i];
    const hi = bounds[i + 1] - 1n;
    const o = outcomeOf(lo);
    const prev = blocks[blocks.length - 1];
    if (prev && prev.hi + 1n === lo && prev.action === o.action && prev.counter === o.counter && prev.rule === o.rule) {
      prev.hi = hi;
      continue;
    }
    blocks.push({ lo, hi, ...o });
  }
  return blocks.filter((b) => b.action === 'deny' || b.counter !== undefined);
}
