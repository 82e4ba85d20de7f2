/** The application servers (slo, sal, snat and the upstream host on rt). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { netnsExecArgv, spawnBackground, waitForLine } from './netns.js';
import type { BackgroundProcess } from './netns.js';
import { addrOf } from './topology.js';
import type { LabPlan, ServerRole } from './topology.js';

const SCRIPT = fileURLToPath(new URL('./servers/app-server.mjs', import.meta.url));

export interface ServerPlan {
  role: ServerRole;
  ns: string;
  tcpPorts: number[];
  udpPorts: number[];
  /** Addresses the UDP sockets bind to (the TCP listeners take every address). */
  addresses: string[];
  /** Service IPs the server holds (loopback or alias). */
  serviceIps: string[];
  mode: 'loopback' | 'alias' | 'nat' | 'upstream';
  log: string;
}

export function serverPlans(plan: LabPlan): ServerPlan[] {
  const own = (role: 'slo' | 'sal' | 'snat'): string[] => {
    const i = plan.hosts[role].ifaces[0];
    return [...i.ipv4, ...i.ipv6].map(addrOf);
  };
  const mk = (role: ServerRole, mode: ServerPlan['mode'], addresses: string[], serviceIps: string[]): ServerPlan => ({
    role,
    ns: plan.ns[role],
    tcpPorts: plan.tcpPorts,
    udpPorts: plan.udpPorts,
    addresses,
    serviceIps,
    mode,
    log: `${plan.workDir}/${role}.log`,
  });
  return [
    mk('slo', 'loopback', [...own('slo'), ...plan.loopbackIps], plan.loopbackIps),
    mk('sal', 'alias', [...own('sal'), ...plan.aliasIps], plan.aliasIps),
    mk('snat', 'nat', own('snat'), []),
    mk('rt', 'upstream', [plan.upstream.ipv4, plan.upstream.ipv6], []),
  ];
}

export async function startServer(sp: ServerPlan): Promise<BackgroundProcess> {
  const cfg = {
    name: sp.role,
    tcpPorts: sp.tcpPorts,
    udpPorts: sp.udpPorts,
    udpAddrs: [...new Set(sp.addresses)],
    log: sp.log,
    exitWithOwner: true,
  };
  const proc = spawnBackground(netnsExecArgv(sp.ns, [process.execPath, SCRIPT, JSON.stringify(cfg)]), { stdinPipe: true });
  try {
    await waitForLine(proc, 'stdout', /^ready /, 10_000, `server ${sp.role} in ${sp.ns}`);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** One line of a server's record. */
export interface ServerRecord {
  t: number;
  server: ServerRole;
  proto: 'tcp' | 'udp';
  local: string;
  lport: number;
  remote: string;
  rport: number;
  /** TCP: the HTTP request. */
  method?: string;
  url?: string;
  /** UDP: datagram length and its first 200 bytes as text. */
  len?: number;
  data?: string;
}

export async function readServerLog(path: string): Promise<ServerRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ServerRecord);
}
