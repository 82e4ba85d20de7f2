/**
 * Source addresses of the engine's own probes: health checks (half-open TCP,
 * ICMP) and server-mode detection. Devices route replies to them back through
 * the engine. Both are from ranges that are never a real client (RFC 2544
 * benchmarking, RFC 5737 TEST-NET-2).
 */
export const HEALTH_PROBE_SOURCE = '198.18.0.1';
export const SERVER_PROBE_SOURCE = '198.51.100.7';

/**
 * Where the engine must take probe replies as its own traffic: a NAT-mode
 * server answers from its own address and port, which is also the key of its
 * service's reply rows, so a probe's SYN-ACK would otherwise be steered back
 * toward the clients as the service's reply and billed as its traffic.
 * (Loopback and alias servers answer their services from the service IP,
 * which a probe of the server's own address never is.)
 */
export function probeSourcesToAccept(devices: { 'delivery-mode': string; ip?: string }[]): string[] {
  return devices.some((d) => d['delivery-mode'] === 'nat' && d.ip) ? [HEALTH_PROBE_SOURCE, SERVER_PROBE_SOURCE] : [];
}
