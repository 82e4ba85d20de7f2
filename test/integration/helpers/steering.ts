/**
 * A hand-written engine table for lab smoke tests, so the lab's wiring (MACs,
 * fake gateways, routes, the bridge) can be proven without the real renderer.
 * It is deliberately tiny and not a model for the renderer: W1/W6 go through
 * fw to slo, and ISP traffic from cl2 goes through fw to rt.
 */
import { enginePortOf } from '../../../cli/lab/index.js';
import type { LabPlan } from '../../../cli/lab/index.js';

export function smokeSteering(plan: LabPlan): string {
  const e = (role: Parameters<typeof enginePortOf>[1], ifname?: string) => enginePortOf(plan, role, ifname);
  const [up, fw0, fw1, slo, cl2] = [e('rt'), e('fw', 'fw0'), e('fw', 'fw1'), e('slo'), e('cl2')];
  const { W1, W6 } = plan.service;
  const isp = plan.ispPrefix.ipv4;
  // Into the bridge, frames carry the far-side engine port's MAC so it floods them through (RESULTS pitfall 4).
  return `table netdev labsmoke {
  chain from_up { type filter hook ingress device "${up.name}" priority 0; policy drop;
    ip daddr ${W1} ether daddr set ${fw1.mac} fwd to "${fw0.name}"
    ip6 daddr ${W6} ether daddr set ${fw1.mac} fwd to "${fw0.name}"
    ip daddr ${isp} ether daddr set ${fw0.mac} fwd to "${fw1.name}"
  }
  chain from_fw0 { type filter hook ingress device "${fw0.name}" priority 0; policy drop;
    ip daddr ${isp} ether daddr set ${cl2.peer.mac} fwd to "${cl2.name}"
    ether daddr set ${up.peer.mac} fwd to "${up.name}"
  }
  chain from_fw1 { type filter hook ingress device "${fw1.name}" priority 0; policy drop;
    ip saddr ${isp} ether daddr set ${up.peer.mac} fwd to "${up.name}"
    ether daddr set ${slo.peer.mac} fwd to "${slo.name}"
  }
  chain from_slo { type filter hook ingress device "${slo.name}" priority 0; policy drop;
    ether daddr set ${fw0.mac} fwd to "${fw1.name}"
  }
  chain from_cl2 { type filter hook ingress device "${cl2.name}" priority 0; policy drop;
    ether daddr set ${fw1.mac} fwd to "${fw0.name}"
  }
}
`;
}
