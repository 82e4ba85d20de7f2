/**
 * The typed NETCONF client of the local daemon, shared by the vcn command and
 * the TUI. Configuration travels as XML of the vcn module and is decoded with
 * the schema codec; vcn-specific operations use the vcn namespace (rollback,
 * compare, commit-history) and the front-end namespace (commit with comment,
 * confirm, events, create-service: mgmt/netconf/ops/frontend-rpcs.ts).
 */
import type { Element } from '@xmldom/xmldom';
import type { Config } from '../../appliance/model/config.generated.js';
import { NS, children, esc, text } from '../../mgmt/netconf/xml.js';
import { fromXml, toXml } from '../../mgmt/schema/config-codec.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { VCN_SCHEMA } from '../../mgmt/schema/schema.generated.js';
import { NetconfConnection, type ConnectOptions } from './connection.js';
import { NetconfRpcError } from './errors.js';

export const VCN_NS = VCN_SCHEMA.namespace;
export const STATE_NS = 'urn:vcn:appliance:state';
export const FRONTEND_NS = 'urn:vcn:appliance:frontend';
export const HEALTH_NS = 'urn:vcn:appliance:health';
export const DEFAULT_SOCKET = '/run/vcn/netconf.sock';

export type Datastore = 'running' | 'candidate' | 'startup';
export type ConfigRef = number | Datastore;

export interface CommitEntry {
  id: number;
  time: string;
  user: string;
  client: string;
  kind: string;
  comment: string;
  parent?: number;
}

export interface Change {
  operation: string;
  path: string;
  old?: string;
  new?: string;
}

export interface Counter {
  packets: number;
  bytes: number;
}

export interface ServicePortState {
  service: string;
  port: string;
  in: Counter;
  out: Counter;
}

export interface PendingConfirm {
  commitId: number;
  revertTo: number;
  deadline: string;
  user: string;
}

export interface DeviceHealth {
  name: string;
  check: string;
  oper: string;
  outOfService: boolean;
  maintenance: boolean;
  failures: number;
  avgResponseUs?: number;
  lastError?: string;
}

export interface EngineState {
  runningCommit?: number;
  pending?: PendingConfirm;
  servicePorts: ServicePortState[];
  countersError?: string;
  /** Present when the daemon runs health checks (--health). */
  health?: { devices: DeviceHealth[]; unavailable: { service: string; reason: string }[] };
}

export interface HopResult {
  port?: string;
  seq: number;
  device: string;
  copy: boolean;
  check?: string;
  result: string;
  latencyUs?: number;
  error?: string;
}

export interface TraceHop {
  iif: string;
  out: string[];
  src: string;
  dst: string;
  ms: number;
}

export interface EventEntry {
  id: number;
  time: string;
  kind: string;
  subject?: string;
  detail?: string;
}

export interface CreateServiceRequest {
  name: string;
  package: string;
  port: number;
  protocol?: 'tcp' | 'udp' | 'any';
  serviceIp?: string;
  serviceIpPool?: string;
  customer?: string;
  description?: string;
  /** One per package function in its order: a device name, a pool, or none. */
  choices: ({ device: string } | { pool: string } | 'none')[];
}

const kid = (el: Element, name: string) => children(el).find((c) => c.localName === name);
const kidText = (el: Element, name: string) => {
  const c = kid(el, name);
  return c ? text(c) : undefined;
};
const counter = (el: Element | undefined): Counter => ({ packets: Number(el ? kidText(el, 'packets') ?? 0 : 0), bytes: Number(el ? kidText(el, 'bytes') ?? 0 : 0) });
const opt = (name: string, v: string | number | undefined) => (v === undefined ? '' : `<${name}>${esc(String(v))}</${name}>`);

export class NetconfClient {
  private constructor(readonly conn: NetconfConnection) {}

  static async connect(o: ConnectOptions): Promise<NetconfClient> {
    return new NetconfClient(await NetconfConnection.open(o));
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  /** Any operation; resolves to the reply's child elements. */
  async rpc(operationXml: string): Promise<Element[]> {
    return children(await this.conn.rpc(operationXml));
  }

  /** A datastore as a normalised configuration (defaults filled in). */
  async getConfig(source: Datastore = 'running'): Promise<Config> {
    return decodeData(await this.getConfigXml(source));
  }

  /** The <data> of get-config, as XML text of the vcn module's top-level elements. */
  async getConfigXml(source: Datastore = 'running', filter?: string): Promise<string> {
    const f = filter ? `<filter type="subtree">${filter}</filter>` : '';
    const [data] = await this.rpc(`<get-config><source><${source}/></source>${f}</get-config>`);
    return data ? children(data).map((c) => c.toString()).join('') : '';
  }

  /** edit-config on the candidate with XML of the vcn module (top-level elements). */
  async editConfig(configXml: string, o: { defaultOperation?: 'merge' | 'replace' | 'none'; testOption?: 'test-then-set' | 'set' | 'test-only' } = {}): Promise<void> {
    await this.rpc(
      `<edit-config><target><candidate/></target>${opt('default-operation', o.defaultOperation)}${opt('test-option', o.testOption)}<config xmlns:nc="${NS.base}">${configXml}</config></edit-config>`,
    );
  }

  /** Replaces the candidate with a whole configuration (typed). */
  async replaceCandidate(config: Config): Promise<void> {
    await this.editConfig(toXml(config as unknown as Record<string, unknown>), { defaultOperation: 'replace' });
  }

  /** Commits the candidate; confirmed N reverts after N seconds unless confirmed. */
  async commit(o: { confirmed?: number; comment?: string } = {}): Promise<{ commitId: number; confirmDeadline?: string }> {
    const r = await this.rpc(`<commit xmlns="${FRONTEND_NS}">${opt('comment', o.comment)}${opt('confirm-timeout', o.confirmed)}</commit>`);
    const id = r.find((e) => e.localName === 'commit-id');
    const dl = r.find((e) => e.localName === 'confirm-deadline');
    return { commitId: Number(id ? text(id) : 0), ...(dl ? { confirmDeadline: text(dl) } : {}) };
  }

  async confirm(): Promise<void> {
    await this.rpc(`<confirm xmlns="${FRONTEND_NS}"/>`);
  }

  /** Reverts the pending confirmed commit now. */
  async cancelCommit(): Promise<number> {
    const r = await this.rpc(`<cancel-commit xmlns="${FRONTEND_NS}"/>`);
    return Number(text(r[0]));
  }

  async discard(): Promise<void> {
    await this.rpc('<discard-changes/>');
  }

  /** Validates the candidate in full (schema, semantics, compile, nft -c). */
  async validate(): Promise<void> {
    await this.rpc('<validate><source><candidate/></source></validate>');
  }

  async rollback(commitId: number, comment?: string): Promise<number> {
    const r = await this.rpc(`<rollback xmlns="${VCN_NS}"><commit-id>${commitId}</commit-id>${opt('comment', comment)}</rollback>`);
    return Number(text(r[0]));
  }

  async compare(from: ConfigRef, to: ConfigRef): Promise<Change[]> {
    const r = await this.rpc(`<compare xmlns="${VCN_NS}"><from>${from}</from><to>${to}</to></compare>`);
    return r
      .filter((e) => e.localName === 'change')
      .map((c) => ({ operation: kidText(c, 'operation') ?? '', path: kidText(c, 'path') ?? '', old: kidText(c, 'old'), new: kidText(c, 'new') }));
  }

  async history(limit = 20): Promise<CommitEntry[]> {
    const r = await this.rpc(`<commit-history xmlns="${VCN_NS}"><limit>${limit}</limit></commit-history>`);
    return r
      .filter((e) => e.localName === 'commit')
      .map((c) => {
        const parent = kidText(c, 'parent');
        return {
          id: Number(kidText(c, 'id')),
          time: kidText(c, 'time') ?? '',
          user: kidText(c, 'user') ?? '',
          client: kidText(c, 'client') ?? '',
          kind: kidText(c, 'kind') ?? '',
          comment: kidText(c, 'comment') ?? '',
          ...(parent !== undefined ? { parent: Number(parent) } : {}),
        };
      });
  }

  /** Operational state: running commit, pending confirmed commit, per service-port counters, device health. */
  async state(): Promise<EngineState> {
    const [data] = await this.rpc(`<get><filter type="subtree"><state xmlns="${STATE_NS}"/><health xmlns="${HEALTH_NS}"/></filter></get>`);
    const st = data ? kid(data, 'state') : undefined;
    const out: EngineState = { servicePorts: [] };
    const h = data ? kid(data, 'health') : undefined;
    if (h) {
      const num = (e: Element, n: string) => (kidText(e, n) !== undefined ? Number(kidText(e, n)) : undefined);
      out.health = {
        devices: children(h)
          .filter((e) => e.localName === 'device')
          .map((e) => ({
            name: kidText(e, 'name') ?? '',
            check: kidText(e, 'check') ?? '',
            oper: kidText(e, 'oper') ?? '',
            outOfService: kidText(e, 'out-of-service') === 'true',
            maintenance: kidText(e, 'maintenance') === 'true',
            failures: num(e, 'failures') ?? 0,
            avgResponseUs: num(e, 'avg-response-us'),
            lastError: kidText(e, 'last-error'),
          })),
        unavailable: children(h)
          .filter((e) => e.localName === 'unavailable')
          .map((e) => ({ service: kidText(e, 'service') ?? '', reason: kidText(e, 'reason') ?? '' })),
      };
    }
    if (!st) return out;
    for (const c of children(st)) {
      if (c.localName === 'running-commit') out.runningCommit = Number(text(c));
      else if (c.localName === 'pending-confirm')
        out.pending = { commitId: Number(kidText(c, 'commit-id')), revertTo: Number(kidText(c, 'revert-to')), deadline: kidText(c, 'deadline') ?? '', user: kidText(c, 'user') ?? '' };
      else if (c.localName === 'service-port') out.servicePorts.push({ service: kidText(c, 'service') ?? '', port: kidText(c, 'port') ?? '', in: counter(kid(c, 'in')), out: counter(kid(c, 'out')) });
      else if (c.localName === 'counters-error') out.countersError = text(c);
    }
    return out;
  }

  async counters(): Promise<ServicePortState[]> {
    return (await this.state()).servicePorts;
  }

  /** The newest events first. */
  async events(limit = 50): Promise<EventEntry[]> {
    const r = await this.rpc(`<events xmlns="${FRONTEND_NS}"><limit>${limit}</limit></events>`);
    return r
      .filter((e) => e.localName === 'event')
      .map((e) => ({ id: Number(kidText(e, 'id')), time: kidText(e, 'time') ?? '', kind: kidText(e, 'kind') ?? '', subject: kidText(e, 'subject'), detail: kidText(e, 'detail') }));
  }

  /** Adds a service built from a package to the candidate; resolves to its service IP. */
  async createService(req: CreateServiceRequest): Promise<string> {
    const choices = req.choices.map((c) => (c === 'none' ? '<none/>' : 'device' in c ? `<device>${esc(c.device)}</device>` : `<pool>${esc(c.pool)}</pool>`)).join('');
    const r = await this.rpc(
      `<create-service xmlns="${FRONTEND_NS}">${opt('name', req.name)}${opt('package', req.package)}${opt('port', req.port)}${opt('protocol', req.protocol)}` +
        `${opt('service-ip', req.serviceIp)}${opt('service-ip-pool', req.serviceIpPool)}${opt('customer', req.customer)}${opt('description', req.description)}<choices>${choices}</choices></create-service>`,
    );
    return r[0] ? text(r[0]) : '';
  }

  /** Probes every hop of a service (SPEC §3 service validation). Throws NOT_AVAILABLE when the daemon runs no health checks. */
  async validateService(name: string, port?: number): Promise<{ hops: HopResult[]; broken?: string }> {
    const r = await this.healthRpc(`<validate-service xmlns="${HEALTH_NS}"><service>${esc(name)}</service>${opt('port', port)}</validate-service>`);
    const broken = r.find((e) => e.localName === 'broken-hop');
    return {
      hops: r
        .filter((e) => e.localName === 'hop')
        .map((e) => ({
          port: kidText(e, 'port'),
          seq: Number(kidText(e, 'seq')),
          device: kidText(e, 'device') ?? '',
          copy: kidText(e, 'copy') === 'true',
          check: kidText(e, 'check'),
          result: kidText(e, 'result') ?? '',
          latencyUs: kidText(e, 'latency-us') !== undefined ? Number(kidText(e, 'latency-us')) : undefined,
          error: kidText(e, 'error'),
        })),
      ...(broken ? { broken: text(broken) } : {}),
    };
  }

  /** Traces test traffic from a client address to a service address through the engine (nft trace). */
  async trace(client: string, serviceIp: string, seconds?: number): Promise<TraceHop[]> {
    const r = await this.healthRpc(`<trace xmlns="${HEALTH_NS}"><client>${esc(client)}</client><service-ip>${esc(serviceIp)}</service-ip>${opt('seconds', seconds)}</trace>`);
    return r
      .filter((e) => e.localName === 'hop')
      .map((e) => ({
        iif: kidText(e, 'iif') ?? '',
        out: children(e)
          .filter((x) => x.localName === 'out')
          .map(text),
        src: kidText(e, 'src') ?? '',
        dst: kidText(e, 'dst') ?? '',
        ms: Number(kidText(e, 'ms') ?? 0),
      }));
  }

  /** A health RPC; a daemon without health checking answers NOT_AVAILABLE. */
  private async healthRpc(xml: string): Promise<Element[]> {
    try {
      return await this.rpc(xml);
    } catch (e) {
      if (e instanceof NetconfRpcError && (e.code === 'HEALTH_OFF' || ['operation-not-supported', 'unknown-namespace'].includes(e.errors[0]?.tag))) {
        throw new NetconfRpcError([{ ...e.errors[0], appTag: 'NOT_AVAILABLE', message: `not available in this daemon: ${e.errors[0]?.message}` }]);
      }
      throw e;
    }
  }
}

/** <data> children (XML text) → a normalised configuration. */
export function decodeData(xml: string): Config {
  const { tree } = fromXml(xml);
  return checkConfig(tree).config;
}
