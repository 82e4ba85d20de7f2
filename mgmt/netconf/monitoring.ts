/**
 * ietf-netconf-monitoring (RFC 6022: capabilities, datastores and locks,
 * schemas, sessions, statistics; <get-schema> returns vcn.yang) and
 * ietf-yang-library (RFC 8525) as <get> data.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { CAPABILITIES, YANG_LIBRARY_CONTENT_ID } from './hello.js';
import { need, roles, type OpContext, type OpDef } from './rpc-dispatch.js';
import { rpcError } from './rpc-error.js';
import type { NetconfServer } from './server.js';
import { esc, leaf, NS, text } from './xml.js';

const YANG_FILE = fileURLToPath(new URL('../schema/vcn.yang', import.meta.url));
let yangText: string | undefined;
const vcnYang = () => (yangText ??= readFileSync(YANG_FILE, 'utf8'));

export function monitoringXml(server: NetconfServer): string {
  const caps = CAPABILITIES.map((c) => leaf('capability', c)).join('');
  const datastores = (['running', 'candidate', 'startup'] as const)
    .map((ds) => {
      const holder = server.locks.get(ds);
      const lock = holder ? `<locks><global-lock>${leaf('locked-by-session', holder.id)}${leaf('locked-time', holder.loginTime.toISOString())}</global-lock></locks>` : '';
      return `<datastore>${leaf('name', ds)}${lock}</datastore>`;
    })
    .join('');
  const schema = `<schema>${leaf('identifier', VCN_SCHEMA.module)}${leaf('version', VCN_SCHEMA.revision)}${leaf('format', 'yang')}${leaf('namespace', VCN_SCHEMA.namespace)}${leaf('location', 'NETCONF')}</schema>`;
  const sessions = [...server.sessions.values()]
    .filter((s) => s.isOpen)
    .map(
      (s) =>
        `<session>${leaf('session-id', s.id)}${leaf('transport', s.info.transport === 'netconf-ssh' ? 'netconf-ssh' : 'netconf-unix')}${leaf('username', s.user.name)}${leaf('source-host', s.info.source)}` +
        `${leaf('login-time', s.loginTime.toISOString())}${leaf('in-rpcs', s.stats.inRpcs)}${leaf('in-bad-rpcs', s.stats.inBadRpcs)}${leaf('out-rpc-errors', s.stats.outRpcErrors)}${leaf('out-notifications', s.stats.outNotifications)}</session>`,
    )
    .join('');
  let inRpcs = 0;
  let bad = 0;
  let errs = 0;
  let notes = 0;
  for (const s of server.sessions.values()) {
    inRpcs += s.stats.inRpcs;
    bad += s.stats.inBadRpcs;
    errs += s.stats.outRpcErrors;
    notes += s.stats.outNotifications;
  }
  const stats = `<statistics>${leaf('netconf-start-time', server.startTime.toISOString())}${leaf('in-bad-hellos', server.counters.inBadHellos)}${leaf('in-sessions', server.counters.inSessions)}${leaf('dropped-sessions', server.counters.droppedSessions)}${leaf('in-rpcs', inRpcs)}${leaf('in-bad-rpcs', bad)}${leaf('out-rpc-errors', errs)}${leaf('out-notifications', notes)}</statistics>`;
  return `<netconf-state xmlns="${NS.monitoring}"><capabilities>${caps}</capabilities><datastores>${datastores}</datastores><schemas>${schema}</schemas><sessions>${sessions}</sessions>${stats}</netconf-state>`;
}

export function yangLibraryXml(): string {
  const mod = (name: string, revision: string, ns: string) => `<module>${leaf('name', name)}${leaf('revision', revision)}${leaf('namespace', ns)}</module>`;
  const imp = (name: string, revision: string, ns: string) => `<import-only-module>${leaf('name', name)}${leaf('revision', revision)}${leaf('namespace', ns)}</import-only-module>`;
  const set =
    `<module-set>${leaf('name', 'vcn')}${mod(VCN_SCHEMA.module, VCN_SCHEMA.revision, VCN_SCHEMA.namespace)}` +
    `${imp('ietf-inet-types', '2013-07-15', 'urn:ietf:params:xml:ns:yang:ietf-inet-types')}${imp('ietf-yang-types', '2013-07-15', 'urn:ietf:params:xml:ns:yang:ietf-yang-types')}</module-set>`;
  const datastores = ['running', 'candidate', 'startup'].map((d) => `<datastore xmlns:ds="${NS.datastores}">${leaf('name', `ds:${d}`)}${leaf('schema', 'vcn')}</datastore>`).join('');
  return `<yang-library xmlns="${NS.yangLibrary}">${set}<schema>${leaf('name', 'vcn')}${leaf('module-set', 'vcn')}</schema>${datastores}${leaf('content-id', YANG_LIBRARY_CONTENT_ID)}</yang-library>`;
}

function getSchema(ctx: OpContext): string {
  const id = text(need(ctx, 'identifier'));
  const version = ctx.params.get('version') ? text(ctx.params.get('version')!) : undefined;
  const format = ctx.params.get('format') ? text(ctx.params.get('format')!).replace(/^.*:/, '') : 'yang';
  if (id !== VCN_SCHEMA.module || (version !== undefined && version !== '' && version !== VCN_SCHEMA.revision)) {
    throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `no schema ${id}${version ? `@${version}` : ''} on this server`, { type: 'application', info: '<bad-element>identifier</bad-element>' });
  }
  if (format !== 'yang') throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `schema format '${format}' is not available (yang)`, { type: 'application', info: '<bad-element>format</bad-element>' });
  return `<data xmlns="${NS.monitoring}">${esc(vcnYang())}</data>`;
}

export const monitoringOps: OpDef[] = [{ ns: NS.monitoring, name: 'get-schema', params: ['identifier', 'version', 'format'], roles: roles.staff, run: getSchema }];
