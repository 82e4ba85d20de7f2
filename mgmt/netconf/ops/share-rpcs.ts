/**
 * Service operations of issue 7 part B, in the front-end namespace:
 *   <cutover-name><name>N</name><service-ip>IP</service-ip>[<comment>]</cutover-name>
 *       gradual cut-over (Fig 22): the service name N now resolves to IP alone,
 *       in one commit (→ <commit-id>); `rollback` to the commit before maps it back.
 *   <detect-server-mode><device>D</device>[<service-ip>][<port>]</detect-server-mode>
 *       probes server D from the engine's port (appliance/datapath/server-probe.ts)
 *       → <mode>loopback|alias|nat|unknown</mode>, <service-ip>, <port> and the
 *       evidence; the result is also an event (server-mode).
 */
import type { Config, Device } from '../../../appliance/model/config.generated.js';
import { readInterfaceMacs } from '../../../appliance/datapath/nft-driver.js';
import { inferMode, probeServer } from '../../../appliance/datapath/server-probe.js';
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError } from '../rpc-error.js';
import { esc, leaf, text } from '../xml.js';
import { FRONTEND_NS } from './frontend-rpcs.js';

const SHARED = { shared: true } as const;
const opt = (ctx: OpContext, name: string) => {
  const el = ctx.params.get(name);
  return el ? text(el) : undefined;
};

async function cutoverName(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'running');
  server.checkUnlocked(session, 'candidate');
  const name = text(need(ctx, 'name'));
  const ip = text(need(ctx, 'service-ip'));
  // Only the cut-over goes into this commit: edits waiting in the candidate are someone else's.
  if (server.nb.compare(session.nbSession, 'running', 'candidate', SHARED).length) {
    throw rpcError('operation-failed', 'STALE_CANDIDATE', 'the candidate has uncommitted changes: commit or discard them before a cut-over', {});
  }
  server.nb.editCandidate(
    session.nbSession,
    (c: Config) => {
      const entry = c['service-names']?.name.find((n) => n.name === name);
      if (!entry) throw rpcError('invalid-value', 'NO_SUCH_NAME', `no service name ${name}`, { info: '<bad-element>name</bad-element>' });
      entry['service-ip'] = [ip];
    },
    SHARED,
  );
  const r = await server.nb.commit(session.nbSession, { ...SHARED, comment: opt(ctx, 'comment') ?? `cut-over of ${name} to ${ip}` });
  server.noteCommit(r.commit.id, session);
  server.poll();
  return `<commit-id xmlns="${FRONTEND_NS}">${r.commit.id}</commit-id>`;
}

/** The service IP a server is meant to answer for: a service whose chain ends at it (directly or through a pool). */
function serviceIpOf(config: Config, device: Device): { ip: string; port: number } | undefined {
  const pools = new Set(config.pools.pool.filter((p) => p.member.includes(device.name)).map((p) => p.name));
  for (const s of config.services.service) {
    if (!s['service-ip']) continue;
    for (const p of s.port) {
      const last = [...p.step].sort((a, b) => a.seq - b.seq).at(-1);
      if (last && (last.device === device.name || (last.pool !== undefined && pools.has(last.pool)))) return { ip: s['service-ip'], port: last['translate-port'] ?? p.port };
    }
  }
  return undefined;
}

async function detectServerMode(ctx: OpContext): Promise<string> {
  const { server } = ctx;
  const name = text(need(ctx, 'device'));
  const config = server.store.running().config;
  const device = config?.devices.device.find((d) => d.name === name);
  if (!config || !device) throw rpcError('invalid-value', 'NO_SUCH_DEVICE', `no device ${name} in the running configuration`, { info: '<bad-element>device</bad-element>' });
  const leg = device.leg[0];
  if (!leg.mac) throw rpcError('invalid-value', 'PROBE_FAILED', `device ${name} has no MAC on its leg ${leg.name}`, {});
  const guess = serviceIpOf(config, device);
  const serviceIp = opt(ctx, 'service-ip') ?? guess?.ip;
  const port = Number(opt(ctx, 'port') ?? guess?.port ?? 80);
  if (!serviceIp) throw rpcError('missing-element', 'PROBE_FAILED', `no service ends at ${name}: give <service-ip>`, { info: '<bad-element>service-ip</bad-element>' });
  let evidence;
  try {
    const macs = await readInterfaceMacs(server.netns);
    const ifMac = macs[leg.interface];
    if (!ifMac) throw new Error(`engine interface ${leg.interface} does not exist`);
    evidence = await probeServer({ interface: leg.interface, interfaceMac: ifMac, serverMac: leg.mac, serverIp: device.ip, serviceIp, port }, { netns: server.netns });
  } catch (e) {
    throw rpcError('operation-failed', 'PROBE_FAILED', `probe of ${name}: ${(e as Error).message}`, {});
  }
  const mode = inferMode(evidence);
  server.store.event('server-mode', name, { mode, serviceIp, port, evidence, configured: device['delivery-mode'] });
  const fl = (n: string, v: string | number) => `<${n} xmlns="${FRONTEND_NS}">${esc(String(v))}</${n}>`;
  return (
    `${fl('mode', mode)}${fl('service-ip', serviceIp)}${fl('port', port)}${fl('configured-mode', device['delivery-mode'])}` +
    `<evidence xmlns="${FRONTEND_NS}">${leaf('service-ip', evidence.serviceIp)}${leaf('own-ip', evidence.ownIp)}${leaf('arp-for-service-ip', String(evidence.arpForServiceIp))}</evidence>`
  );
}

export const shareOps: OpDef[] = [
  { ns: FRONTEND_NS, name: 'cutover-name', params: ['name', 'service-ip', 'comment'], roles: roles.admin, run: cutoverName },
  { ns: FRONTEND_NS, name: 'detect-server-mode', params: ['device', 'service-ip', 'port'], roles: roles.staff, run: detectServerMode },
];
