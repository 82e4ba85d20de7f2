/**
 * The IDS tap: records every frame it receives on ids0 and can emit an
 * "alert" packet back into the engine, as an IDS that reacts to an attack does
 * (SPEC §2, Copy: the engine forwards it to the server or firewall).
 */
import { Capture } from './capture.js';
import type { WaitOptions } from './capture.js';
import { parseFrame, tcpFrame, udpFrame } from './frames.js';
import type { ParsedPacket } from './frames.js';
import { injectFrame } from './netns.js';
import { enginePortOf, hostIp, isIpv6 } from './topology.js';
import type { LabPlan } from './topology.js';

export interface AlertSpec {
  /** Destination, usually a service IP (W1). */
  dst: string;
  dport: number;
  /** 'udp' (default) or 'tcp' (with `flags`, 'R' by default: a reset on behalf of the IDS). */
  proto?: 'udp' | 'tcp';
  flags?: string;
  /** Source IP; the IDS's own address of the destination's family by default. */
  src?: string;
  sport?: number;
  payload?: string;
}

export class Ids {
  readonly ns: string;
  readonly ifname: string;
  readonly mac: string;
  /** The engine port the IDS hangs on, and the MAC alerts are sent to. */
  readonly enginePort: string;
  readonly enginePortMac: string;

  constructor(
    private readonly plan: LabPlan,
    private readonly capture: Capture | null,
  ) {
    const port = enginePortOf(plan, 'ids');
    this.ns = plan.ns.ids;
    this.ifname = port.peer.ifname;
    this.mac = port.peer.mac;
    this.enginePort = port.name;
    this.enginePortMac = port.mac;
  }

  static async start(plan: LabPlan): Promise<Ids> {
    const port = enginePortOf(plan, 'ids');
    // Only what arrives: the alerts we send ourselves are not "received".
    const cap = await Capture.start(plan.ns.ids, port.peer.ifname, { direction: 'in' });
    return new Ids(plan, cap);
  }

  get pid(): number | undefined {
    return this.capture?.pid;
  }

  /** The recorder's capture, if it runs. */
  get recorder(): Capture | null {
    return this.capture;
  }

  private cap(): Capture {
    if (!this.capture) throw new Error('lab: the IDS recorder is off (Lab.up({ ids: false }))');
    return this.capture;
  }

  /** Frames received so far, oldest first: MACs, IPs, ports, protocol, time. */
  packets(): ParsedPacket[] {
    return this.cap().packets();
  }

  clear(): void {
    this.cap().clear();
  }

  waitFor(match: (p: ParsedPacket) => boolean, opts?: WaitOptions): Promise<ParsedPacket[]> {
    return this.cap().waitFor(match, opts);
  }

  /** Sends the alert out of ids0 toward the engine port; returns the frame as sent. */
  async alert(spec: AlertSpec): Promise<ParsedPacket> {
    const six = isIpv6(spec.dst);
    const common = {
      srcMac: this.mac,
      dstMac: this.enginePortMac,
      src: spec.src ?? hostIp(this.plan, 'ids', six ? 6 : 4),
      dst: spec.dst,
      sport: spec.sport ?? 40_000,
      dport: spec.dport,
      payload: spec.payload ?? (spec.proto === 'tcp' ? '' : 'vcn-ids-alert'),
    };
    const frame = spec.proto === 'tcp' ? tcpFrame({ ...common, flags: spec.flags ?? 'R' }) : udpFrame(common);
    await injectFrame(this.ns, this.ifname, frame);
    return parseFrame(frame);
  }

  async stop(): Promise<void> {
    await this.capture?.stop();
  }
}
