/**
 * Notifications (RFC 5277, with :interleave): <create-subscription> on the
 * NETCONF stream, and a netconf-config-change (RFC 6470) for every commit —
 * including commits made outside NETCONF and automatic reverts, found by
 * watching the store's running commit.
 */
import { diffConfigs } from '../northbound/config-diff.js';
import { emptyConfig } from '../northbound/northbound.js';
import { roles, type OpContext, type OpDef } from './rpc-dispatch.js';
import { rpcError, toXPath } from './rpc-error.js';
import type { NetconfServer } from './server.js';
import { applyFilter } from './filters.js';
import { esc, leaf, NS, text } from './xml.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';

export interface CommitWatcher {
  poll(): void;
  stop(): void;
}

const OPERATION = { added: 'create', removed: 'delete', changed: 'replace' } as const;
const MAX_EDITS = 100;

export function commitWatcher(server: NetconfServer, everyMs: number): CommitWatcher {
  let last = server.nb.runningCommit() ?? 0;
  const poll = () => {
    try {
      const now = server.nb.runningCommit();
      if (now === null || now <= last) return;
      const commits = server.nb
        .history(50)
        .filter((c) => c.id > last)
        .sort((a, b) => a.id - b.id);
      last = now;
      refreshCandidate(server);
      if (![...server.sessions.values()].some((s) => s.subscription)) return;
      for (const c of commits) {
        const before = c.parent !== null ? safeConfig(server, c.parent) : emptyConfig();
        const changes = diffConfigs(before, server.store.commitConfig(c.id)).slice(0, MAX_EDITS);
        const edits = changes
          .map((ch) => `<edit><target xmlns:${VCN_SCHEMA.prefix}="${VCN_SCHEMA.namespace}">${esc(toXPath(ch.path))}</target>${leaf('operation', OPERATION[ch.op])}</edit>`)
          .join('');
        const by = c.user === 'system' ? '<server/>' : `${leaf('username', c.user)}${leaf('session-id', server.commitSessions.get(c.id) ?? 0)}${leaf('source-host', c.client)}`;
        const event = `<netconf-config-change xmlns="${NS.ncNotifications}"><changed-by>${by}</changed-by>${leaf('datastore', 'running')}${edits}</netconf-config-change>`;
        for (const s of server.sessions.values()) {
          if (!s.subscription) continue;
          if (s.subscription.filter && !applyFilter(event, s.subscription.filter)) continue;
          s.notify(event, new Date(c.time));
        }
      }
    } catch (e) {
      server.log(`notifications: ${(e as Error).message}`);
    }
  };
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}

function safeConfig(server: NetconfServer, id: number) {
  try {
    return server.store.commitConfig(id);
  } catch {
    return emptyConfig();
  }
}

/**
 * After a commit made elsewhere (a revert, a rollback, the TUI), an unedited
 * shared candidate would be stale: drop it so it reads as running again.
 */
function refreshCandidate(server: NetconfServer): void {
  // Read without a copy: only its base is looked at unless it is stale.
  const ds = server.store.datastore('candidate', { readonly: true });
  const running = server.nb.runningCommit();
  if (!ds || ds.base === running || ds.base === null) return;
  if (diffConfigs(safeConfig(server, ds.base), ds.config).length === 0) server.store.deleteDatastore('candidate', { user: 'system', client: 'system' });
}

function createSubscription(ctx: OpContext): string {
  const { session } = ctx;
  if (session.subscription) throw rpcError('in-use', 'NETCONF_BAD_VALUE', 'this session already has a subscription', { type: 'application' });
  const stream = ctx.params.get('stream') ? text(ctx.params.get('stream')!) : 'NETCONF';
  if (stream !== 'NETCONF') throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `no event stream '${stream}' (NETCONF)`, { type: 'application', info: '<bad-element>stream</bad-element>' });
  if (ctx.params.has('startTime')) throw rpcError('operation-not-supported', 'NETCONF_NOT_SUPPORTED', 'replay (startTime) is not supported', { type: 'application' });
  const stop = ctx.params.get('stopTime');
  if (stop) throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', 'stopTime without startTime is not allowed', { type: 'application', info: '<bad-element>stopTime</bad-element>' });
  session.subscription = { stream, filter: ctx.params.get('filter') };
  return '';
}

export const notificationOps: OpDef[] = [{ ns: NS.notification, name: 'create-subscription', params: ['stream', 'filter', 'startTime', 'stopTime'], roles: roles.staff, run: createSubscription }];
