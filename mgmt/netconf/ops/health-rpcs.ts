/**
 * Health and service operations (issue 7), namespace urn:vcn:appliance:health:
 *
 *   <health-status/>                          → <device>* (oper state, failures, response times), <unavailable>*
 *   <failback><device>X</device>[<force/>]</failback>   → <commit-id>: a failed device back into service
 *   <set-maintenance><device>X</device><enabled>true|false</enabled></set-maintenance> → <commit-id>
 *   <replace-device><from>X</from><to>Y</to>[<preview/>]</replace-device>
 *         → <use>* (service, where) and, without preview, <commit-id> (one commit for all services)
 *   <clone-service><service>S</service><name>N</name><service-ip>IP</service-ip></clone-service> → <commit-id>
 *   <validate-service><service>S</service>[<port>P</port>]</validate-service>
 *         → <hop>* in chain order (port, seq, device, check, result pass|fail|skipped, latency-us, error), <broken-hop>
 *   <trace><client>IP</client><service-ip>IP</service-ip>[<seconds>N</seconds>]</trace> → <hop>* (iif, out, src, dst)
 *
 * Configuration changes are made in a private candidate (a copy of running)
 * and committed at once, so an operator's shared candidate is not touched.
 * Device and service notifications (<health-event>) go to subscribed sessions.
 */
import { resolveStep } from '../../../appliance/compile/resolve-step.js';
import { indexConfig, chainsOf } from '../../../appliance/model/config-index.js';
import type { Config } from '../../../appliance/model/config.generated.js';
import type { TraceResult } from '../../../appliance/datapath/nft-trace.js';
import { VcnError } from '../../../appliance/errors.js';
import { unavailableServices } from '../../health/affected.js';
import type { HealthEvent, HealthMonitor } from '../../health/monitor.js';
import { cloneService, replaceDevice } from '../../health/service-ops.js';
import { FRONTEND_NS } from './frontend-rpcs.js';
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError } from '../rpc-error.js';
import { esc, leaf, text } from '../xml.js';
import type { NetconfServer } from '../server.js';

export const HEALTH_NS = 'urn:vcn:appliance:health';

/** What the RPCs need from health checking (mgmt/health/monitor.ts) and the trace runner. */
export type HealthApi = Pick<HealthMonitor, 'states' | 'failback' | 'probe' | 'runtime' | 'trace'>;

function api(ctx: OpContext): HealthApi {
  const h = ctx.server.health;
  if (!h) throw new VcnError('HEALTH_OFF', 'health checking does not run in this daemon (start it with --health)');
  return h;
}

const opt = (ctx: OpContext, name: string) => {
  const el = ctx.params.get(name);
  return el ? text(el) : undefined;
};

/** Commits `edit` of the running configuration in a private candidate: one commit, the shared candidate untouched. */
async function commitEdit(ctx: OpContext, edit: (c: Config) => Config, comment: string): Promise<number> {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'running');
  const nb = server.nb;
  const s = nb.openSession(session.user.name, 'netconf');
  try {
    nb.editCandidate(s.id, edit);
    const r = await nb.commit(s.id, { comment });
    server.noteCommit(r.commit.id, session);
    server.poll();
    return r.commit.id;
  } finally {
    nb.closeSession(s.id);
  }
}

const running = (ctx: OpContext) => ctx.server.nb.getConfig(ctx.session.nbSession, 'running');

function status(ctx: OpContext): string {
  return statusXml(ctx.server, api(ctx));
}

function statusXml(server: NetconfServer, h: HealthApi): string {
  const devices = h
    .states()
    .map(
      (s) =>
        `<device xmlns="${HEALTH_NS}">${leaf('name', s.device)}${leaf('check', s.kind)}${leaf('oper', s.oper)}${leaf('out-of-service', s.failed)}${leaf('maintenance', s.maintenance)}` +
        `${leaf('failures', s.failures)}${leaf('checks', s.checks)}${leaf('last-change', new Date(s.lastChange).toISOString())}` +
        `${s.lastResponseUs !== undefined ? leaf('last-response-us', s.lastResponseUs) : ''}${s.avgResponseUs !== undefined ? leaf('avg-response-us', s.avgResponseUs) : ''}` +
        `${s.lastError ? leaf('last-error', s.lastError) : ''}</device>`,
    )
    .join('');
  const config = server.store.running().config;
  const un = (config ? unavailableServices(config, h.runtime()) : [])
    .map((u) => `<unavailable xmlns="${HEALTH_NS}">${leaf('service', u.service)}${leaf('reason', u.reason)}</unavailable>`)
    .join('');
  return devices + un;
}

/** The oper data <get> shows (mgmt/netconf/ops/state.ts): the same as health-status. */
export function healthStateXml(server: NetconfServer): string {
  return server.health ? `<health xmlns="${HEALTH_NS}">${statusXml(server, server.health)}</health>` : '';
}

async function failback(ctx: OpContext): Promise<string> {
  const device = text(need(ctx, 'device'));
  const r = await api(ctx).failback(device, { user: ctx.session.user.name, client: 'netconf' }, { force: ctx.params.has('force') });
  ctx.server.poll();
  return `<commit-id xmlns="${HEALTH_NS}">${r.commit.id}</commit-id>`;
}

async function maintenance(ctx: OpContext): Promise<string> {
  const device = text(need(ctx, 'device'));
  const enabled = text(need(ctx, 'enabled'));
  if (enabled !== 'true' && enabled !== 'false') throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `<enabled> must be true or false, not '${enabled}'`, { info: '<bad-element>enabled</bad-element>' });
  const id = await commitEdit(
    ctx,
    (c) => {
      const d = c.devices.device.find((x) => x.name === device);
      if (!d) throw new VcnError('NO_SUCH_DEVICE', `device ${device} does not exist`);
      d['admin-state'] = enabled === 'true' ? 'maintenance' : 'in-service';
      return c;
    },
    `device ${device} ${enabled === 'true' ? 'into maintenance' : 'back in service'}`,
  );
  return `<commit-id xmlns="${HEALTH_NS}">${id}</commit-id>`;
}

async function replace(ctx: OpContext): Promise<string> {
  const from = text(need(ctx, 'from'));
  const to = text(need(ctx, 'to'));
  const { uses } = replaceDevice(running(ctx), from, to);
  const list = uses.map((u) => `<use xmlns="${HEALTH_NS}">${leaf('service', u.service)}${leaf('where', u.where)}</use>`).join('');
  if (ctx.params.has('preview') || uses.length === 0) return list;
  const services = [...new Set(uses.map((u) => u.service))];
  const id = await commitEdit(ctx, (c) => replaceDevice(c, from, to).config, `replace device ${from} by ${to} in ${services.length} service(s): ${services.join(', ')}`);
  return `${list}<commit-id xmlns="${HEALTH_NS}">${id}</commit-id>`;
}

async function clone(ctx: OpContext): Promise<string> {
  const service = text(need(ctx, 'service'));
  const name = text(need(ctx, 'name'));
  const ip = text(need(ctx, 'service-ip'));
  const id = await commitEdit(ctx, (c) => cloneService(c, service, name, ip), `clone service ${service} to ${name} (${ip})`);
  return `<commit-id xmlns="${HEALTH_NS}">${id}</commit-id>`;
}

async function validateService(ctx: OpContext): Promise<string> {
  const h = api(ctx);
  const name = text(ctx.params.has('name') ? need(ctx, 'name') : need(ctx, 'service'));
  const portFilter = opt(ctx, 'port');
  const config = running(ctx);
  const service = config.services.service.find((s) => s.name === name);
  if (!service) throw new VcnError('NO_SUCH_SERVICE', `service ${name} does not exist`);
  const index = indexConfig(config);
  const hops: string[] = [];
  let broken: string | undefined;
  for (const chain of chainsOf(service)) {
    if (portFilter !== undefined && String(chain.port) !== portFilter) continue;
    for (const step of [...chain.steps].sort((a, b) => a.seq - b.seq)) {
      const r = resolveStep(index, step, h.runtime());
      const base = `${chain.port !== undefined ? leaf('port', chain.port) : ''}${leaf('seq', step.seq)}`;
      if ('unavailable' in r) {
        hops.push(`<hop xmlns="${HEALTH_NS}">${base}${leaf('device', step.device ?? step.pool ?? '')}${leaf('result', 'fail')}${leaf('error', r.unavailable)}</hop>`);
        broken ??= step.device ?? step.pool;
        continue;
      }
      for (const dev of [r.device.name, ...step['copy-to']]) {
        const p = await h.probe(dev);
        const result = p.skipped ? 'skipped' : p.ok ? 'pass' : 'fail';
        if (result === 'fail') broken ??= dev;
        hops.push(
          `<hop xmlns="${HEALTH_NS}">${base}${leaf('device', dev)}${dev !== r.device.name ? leaf('copy', true) : ''}${leaf('check', p.kind)}${leaf('result', result)}` +
            `${p.us !== undefined ? leaf('latency-us', p.us) : ''}${p.error || p.skipped ? leaf('error', (p.error ?? p.skipped)!) : ''}</hop>`,
        );
      }
    }
  }
  return `${hops.join('')}${broken ? `<broken-hop xmlns="${HEALTH_NS}">${esc(broken)}</broken-hop>` : ''}`;
}

/** Without health checking there is no prober: operation-not-supported, which the vcn command reports as not available (exit 4). */
function validateViaFrontend(ctx: OpContext): Promise<string> {
  if (!ctx.server.health) throw rpcError('operation-not-supported', 'NETCONF_NOT_SUPPORTED', 'service validation probes hops: it needs health checking (vcnd --health)', { type: 'application' });
  return validateService(ctx);
}

async function trace(ctx: OpContext): Promise<string> {
  const h = api(ctx);
  if (!h.trace) throw new VcnError('TRACE_FAILED', 'tracing needs the kernel data plane');
  const client = text(need(ctx, 'client'));
  const sip = text(need(ctx, 'service-ip'));
  const secs = Number(opt(ctx, 'seconds') ?? '5');
  if (!Number.isFinite(secs) || secs <= 0 || secs > 60) throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', '<seconds> must be from 1 to 60', { info: '<bad-element>seconds</bad-element>' });
  let r: TraceResult;
  try {
    r = await h.trace(client, sip, secs * 1000);
  } catch (e) {
    throw new VcnError('TRACE_FAILED', (e as Error).message);
  }
  return r.hops
    .map((hop) => `<hop xmlns="${HEALTH_NS}">${leaf('iif', hop.iif)}${hop.out.map((o) => leaf('out', o)).join('')}${leaf('src', hop.src)}${leaf('dst', hop.dst)}${leaf('ms', hop.at)}</hop>`)
    .join('');
}

/** A health transition as a NETCONF notification body. */
export function healthEventXml(e: HealthEvent): string {
  const d = Object.entries(e.detail)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => leaf(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), typeof v === 'object' ? JSON.stringify(v) : String(v)))
    .join('');
  return `<health-event xmlns="${HEALTH_NS}">${leaf('kind', e.kind)}${leaf('subject', e.subject)}${d}</health-event>`;
}

export const healthOps: OpDef[] = [
  { ns: HEALTH_NS, name: 'health-status', params: [], roles: roles.staff, run: status },
  { ns: HEALTH_NS, name: 'failback', params: ['device', 'force'], roles: roles.admin, run: failback },
  { ns: HEALTH_NS, name: 'set-maintenance', params: ['device', 'enabled'], roles: roles.admin, run: maintenance },
  { ns: HEALTH_NS, name: 'replace-device', params: ['from', 'to', 'preview'], roles: roles.admin, run: replace },
  { ns: HEALTH_NS, name: 'clone-service', params: ['service', 'name', 'service-ip'], roles: roles.admin, run: clone },
  { ns: HEALTH_NS, name: 'validate-service', params: ['service', 'port'], roles: roles.staff, run: validateService },
  // The vcn command's client (cli/netconf-client) asks for it in the front-end namespace with <name>.
  { ns: FRONTEND_NS, name: 'validate-service', params: ['name', 'port'], roles: roles.staff, run: validateViaFrontend },
  { ns: HEALTH_NS, name: 'trace', params: ['client', 'service-ip', 'seconds'], roles: roles.staff, run: trace },
];
