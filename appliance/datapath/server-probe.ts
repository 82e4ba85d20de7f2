/**
 * Which delivery mode a server answers in (SPEC §3 discovery: "detect whether
 * a server answers in loopback, alias or normal (NAT) mode by a simulated
 * connection"). From the engine's port, with raw frames (the engine owns no
 * addresses; an AF_PACKET socket sees the replies before the ingress hook
 * drops them), a python3 co-process sends:
 *   1. a TCP SYN to the service IP W at the server's MAC: a SYN-ACK or RST
 *      from W means the server holds W itself (loopback or alias);
 *   2. a TCP SYN to the server's own IP: an answer there, and none from W,
 *      means normal mode: the engine must rewrite W to the server (nat);
 *   3. an ARP request for W at the server's MAC: Linux answers ARP for an
 *      address on lo from every interface unless told not to, while an alias
 *      on the data interface must be non-ARP (arp_ignore=2 with a /32, or the
 *      segment would send W's traffic around the engine). An answer means W
 *      is not a non-ARP alias of the data interface: loopback; silence:
 *      alias. (A loopback server that also suppresses ARP looks like an alias
 *      on the wire; the evidence is reported with the verdict.)
 * The probe's source is a TEST-NET-2 address the server routes back through
 * its gateway (the engine), so nothing on the segment needs configuring.
 */
import { runProcess } from '../run-process.js';
import { SERVER_PROBE_SOURCE } from '../probe-sources.js';

export interface ProbeTarget {
  /** Engine interface the server is on, and its MAC (the probe's source MAC). */
  interface: string;
  interfaceMac: string;
  serverMac: string;
  serverIp?: string;
  serviceIp: string;
  port: number;
  /** Probe source address (default SERVER_PROBE_SOURCE, 198.51.100.7). */
  sourceIp?: string;
}

export interface ProbeEvidence {
  /** What a SYN to the service IP got: 'syn-ack', 'rst' or 'none'. */
  serviceIp: 'syn-ack' | 'rst' | 'none';
  /** What a SYN to the server's own IP got ('skipped' without one). */
  ownIp: 'syn-ack' | 'rst' | 'none' | 'skipped';
  /** Whether the server answered an ARP request for the service IP. */
  arpForServiceIp: boolean;
}

export type ServerMode = 'loopback' | 'alias' | 'nat' | 'unknown';

export function inferMode(e: ProbeEvidence): ServerMode {
  if (e.serviceIp !== 'none') return e.arpForServiceIp ? 'loopback' : 'alias';
  if (e.ownIp === 'syn-ack' || e.ownIp === 'rst') return 'nat';
  return 'unknown';
}

const SCRIPT = String.raw`
import json, random, socket, struct, sys, time
a = json.loads(sys.argv[1])
mac = lambda m: bytes.fromhex(m.replace(':', ''))
ip4 = socket.inet_aton
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((a['iface'], 0))
src, smac, dmac = a['src'], mac(a['smac']), mac(a['dmac'])
def tcp(dst, port):
    sport = random.randrange(20000, 60000)
    th = struct.pack('!HHIIBBHHH', sport, port, random.randrange(1 << 32), 0, 5 << 4, 0x02, 64240, 0, 0)
    ph = ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 6, len(th))
    th = th[:16] + struct.pack('!H', csum(ph + th)) + th[18:]
    ih = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(th), random.randrange(65536), 0, 64, 6, 0, ip4(src), ip4(dst))
    ih = ih[:10] + struct.pack('!H', csum(ih)) + ih[12:]
    s.send(dmac + smac + b'\x08\x00' + ih + th)
    end = time.time() + a['timeout']
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try: f = s.recv(2048)
        except socket.timeout: break
        if f[12:14] != b'\x08\x00' or f[23] != 6: continue
        hl = (f[14] & 15) * 4
        if f[26:30] != ip4(dst) or f[30:34] != ip4(src): continue
        sp, dp = struct.unpack('!HH', f[14 + hl:18 + hl])
        if sp != port or dp != sport: continue
        flags = f[14 + hl + 13]
        if flags & 0x12 == 0x12: return 'syn-ack'
        if flags & 0x04: return 'rst'
    return 'none'
def arp(target):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + smac + ip4(src) + b'\0' * 6 + ip4(target)
    s.send(dmac + smac + b'\x08\x06' + body)
    end = time.time() + a['timeout']
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try: f = s.recv(2048)
        except socket.timeout: break
        if f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x02' and f[28:32] == ip4(target): return True
    return False
out = {'serviceIp': tcp(a['w'], a['port'])}
out['ownIp'] = tcp(a['own'], a['port']) if a.get('own') else 'skipped'
out['arpForServiceIp'] = arp(a['w'])
print(json.dumps(out))
`;

/** Run the probe in the engine's namespace (root). */
export async function probeServer(t: ProbeTarget, o: { netns?: string; timeoutMs?: number } = {}): Promise<ProbeEvidence> {
  const args = {
    iface: t.interface,
    smac: t.interfaceMac,
    dmac: t.serverMac,
    src: t.sourceIp ?? SERVER_PROBE_SOURCE,
    w: t.serviceIp,
    own: t.serverIp,
    port: t.port,
    timeout: (o.timeoutMs ?? 1000) / 1000,
  };
  const argv = ['python3', '-c', SCRIPT, JSON.stringify(args)];
  const r = await runProcess(o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`mode probe: ${r.stderr.trim() || `exit ${r.code}`}`);
  return JSON.parse(r.stdout.toString()) as ProbeEvidence;
}
