/**
 * The NETCONF server driven by Debian's python3-ncclient (/usr/bin/python3)
 * over SSH on an ephemeral loopback port: every operation, capability and
 * error path, two concurrent sessions, lock contention, kill-session,
 * confirmed-commit timeout revert, persist-id, notifications, NACM. The
 * daemon runs over the dry datapath (no kernel needed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleConfig } from '../../bench/scale-config.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { toXml } from '../../mgmt/schema/config-codec.js';
import { YANG_FILE } from '../../mgmt/schema/generate.js';
import { loginUsers, runNc, startNcDaemon, type NcDaemon } from './helpers/netconf-daemon.js';

const hasNcclient = spawnSync('/usr/bin/python3', ['-c', 'import ncclient'], { encoding: 'utf8' }).status === 0;
type R = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CFG = (inner: string) => `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">${inner}</config>`;
const service = (name: string, ip: string, device: string) =>
  CFG(`<services xmlns="urn:vcn:appliance"><service><name>${name}</name><service-ip>${ip}</service-ip><port><port>80</port><step><seq>1</seq><device>${device}</device></step></port></service></services>`);

function baseConfig(): Config {
  const c = scaleConfig(1);
  c.system.login.user = loginUsers();
  c.services.service.push({
    name: 'web',
    customer: 'acme',
    'service-ip': '10.200.0.1',
    port: [{ port: 80, protocol: 'tcp', step: [{ seq: 1, device: 'srv0', 'copy-to': [] }] }],
    acl: { 'default-action': 'permit', rule: [{ seq: 1, action: 'deny', source: '192.0.2.0/24', count: true }] },
  } as unknown as Config['services']['service'][number]);
  return c;
}

describe.skipIf(!hasNcclient)('NETCONF with ncclient (python3-ncclient missing: apt-get install -y python3-ncclient)', () => {
  let d: NcDaemon;
  let common: { port: number };
  let baseCommit: number;

  beforeAll(async () => {
    d = await startNcDaemon();
    common = { port: d.port };
    const nb = d.daemon.northbound;
    const s = nb.openSession('setup', 'system');
    nb.setCandidate(s.id, baseConfig());
    baseCommit = (await nb.commit(s.id)).commit.id;
    nb.closeSession(s.id);
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('hello, capabilities, get-config, edit-config, validate, commit, filters, with-defaults, monitoring, get-schema, close-session', async () => {
    const r: R = await runNc('basic', common);
    expect(Number(r.session_id)).toBeGreaterThan(0);
    expect(r.base11).toBe(true);
    for (const cap of [':candidate:1.0', ':confirmed-commit:1.1', ':validate:1.1', ':rollback-on-error:1.0', ':startup:1.0', ':xpath:1.0', ':with-defaults:1.0', ':notification:1.0', ':interleave:1.0', ':yang-library:1.1']) {
      expect(r.caps.some((c: string) => c.includes(cap)), cap).toBe(true);
    }
    expect(r.edit).toHaveProperty('ok');
    expect(r.validate).toHaveProperty('ok');
    expect(r.candidate_has_web).toBe(true);
    expect(r.running_before_commit_has_web).toBe(false);
    expect(r.commit).toHaveProperty('ok');
    expect(r.running_has_web).toBe(true);
    // subtree filter: the one service, its key and its acl only
    expect(r.subtree).toContain('<source>192.0.2.0/24</source>');
    expect(r.subtree).not.toContain('service-ip');
    expect(r.subtree).not.toContain('<devices');
    // xpath filter: the selected leaf with its list key
    expect(r.xpath).toMatch(/<service-ip[^>]*>10\.200\.0\.2<\/service-ip>/);
    expect(r.xpath).not.toContain('<port>');
    // with-defaults: report-all shows default leaves, trim drops them
    expect(r.report_all).toContain('<default-action>permit</default-action>');
    expect(r.trim).not.toContain('<default-action>permit</default-action>');
    expect(r.trim).not.toContain('<count>true</count>');
    expect(r.monitoring).toContain('<identifier>vcn</identifier>');
    expect(r.monitoring).toContain('<username>admin</username>');
    expect(r.yanglib).toContain('<content-id>');
    expect(r.schema).toContain('module vcn');
    expect(r.schema_missing.error).toMatchObject({ tag: 'invalid-value', type: 'application' });
    expect(r.state).toContain('<running-commit>');
    expect(r.state).toContain('<service>web2</service>');
    expect(r.closed).toBe(true);

    // yanglint accepts what get-config returned, the system container (users with password hashes) included
    const data = String(r.running).replace(/^<\?xml[^>]*\?>/, '').replace(/^<data[^>]*>/, '').replace(/<\/data>$/, '');
    expect(data).toMatch(/<system xmlns="urn:vcn:appliance"><hostname>vcn<\/hostname><management>/);
    expect(data).toMatch(/<user><name>oper<\/name><class>operator<\/class><password>\$scrypt\$[^<]+<\/password><\/user>/);
    expect(data).toContain('<login-limit><max-failures>5</max-failures>');
    const file = join(d.dir, 'get-config.xml');
    writeFileSync(file, data);
    execFileSync('yanglint', ['-t', 'config', YANG_FILE, file]);
  });

  it('two sessions: lock contention, in-use, kill-session releases locks', async () => {
    const r: R = await runNc('sessions', { ...common, edit: service('lk', '10.200.9.1', 'srv1') });
    expect(r.ids[0]).not.toBe(r.ids[1]);
    expect(r.a_lock).toHaveProperty('ok');
    expect(r.b_lock.error).toMatchObject({ tag: 'lock-denied', app_tag: 'NETCONF_LOCKED' });
    expect(r.b_lock.error.info).toContain(`<session-id>${r.ids[0]}</session-id>`);
    expect(r.b_edit.error).toMatchObject({ tag: 'in-use' });
    expect(r.b_read).toBe(true);
    expect(r.a_lock_running).toHaveProperty('ok');
    expect(r.b_commit.error).toMatchObject({ tag: 'in-use' });
    expect(r.a_edit).toHaveProperty('ok');
    expect(r.b_unlock_not_holder.error).toMatchObject({ tag: 'operation-failed' });
    expect(r.a_kill_self.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.b_kill_a).toHaveProperty('ok');
    expect(r.a_connected_after_kill).toBe(false);
    expect(r.b_lock_after_kill).toHaveProperty('ok'); // the killed session's candidate edit was discarded with its lock
    expect(r.b_lock_running_after_kill).toHaveProperty('ok');
    expect(r.kill_unknown.error).toMatchObject({ tag: 'invalid-value', app_tag: 'NETCONF_NO_SUCH_SESSION' });
    expect(r.b_unlock).toHaveProperty('ok');
    expect(d.daemon.northbound.getConfig(d.daemon.northbound.openSession('t', 'system').id, 'running').services.service.some((s) => s.name === 'lk')).toBe(false);
  });

  it('confirmed commit: timeout revert, confirming commit, persist/persist-id, cancel-commit, revert on session end', async () => {
    const r: R = await runNc('confirmed', { ...common, add1: service('tmp1', '10.200.1.1', 'srv1'), add2: service('tmp2', '10.200.1.2', 'srv2') });
    expect(r.confirmed).toHaveProperty('ok');
    expect(r.present_during).toBe(true);
    expect(r.commit_while_pending_other_session.error).toMatchObject({ tag: 'in-use' });
    expect(r.present_after_timeout).toBe(false);
    expect(r.candidate_after_revert_has).toBe(false);
    expect(r.confirmed2).toHaveProperty('ok');
    expect(r.confirm).toHaveProperty('ok');
    expect(r.present_after_confirm).toBe(true);
    expect(r.persist).toHaveProperty('ok');
    expect(r.tmp2_after_close).toBe(true);
    expect(r.wrong_persist_id.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.cancel_without_id.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.cancel).toHaveProperty('ok');
    expect(r.tmp2_after_cancel).toBe(false);
    expect(r.cancel_nothing.error).toMatchObject({ app_tag: 'NO_PENDING_CONFIRM' });
    expect(r.confirmed4).toHaveProperty('ok');
    expect(r.tmp2_after_session_end).toBe(false);
    const kinds = d.daemon.northbound.history(20).map((c) => c.kind);
    expect(kinds).toContain('revert');
  }, 180_000);

  it('error paths give rpc-errors with tag, type, path, message and app-tag; the session survives', async () => {
    const r: R = await runNc('errors', common);
    expect(r.bad_value.error).toMatchObject({ type: 'application', tag: 'invalid-value', app_tag: 'SCHEMA_RANGE', severity: 'error' });
    expect(r.bad_value.error.path).toBe("/vcn:services/vcn:service[vcn:name='web']/vcn:dscp");
    expect(r.bad_type.error).toMatchObject({ tag: 'invalid-value', app_tag: 'SCHEMA_TYPE' });
    expect(r.unknown_element.error).toMatchObject({ tag: 'unknown-element', app_tag: 'SCHEMA_UNKNOWN_NODE' });
    expect(r.unknown_element.error.info).toContain('<bad-element>colour</bad-element>');
    expect(r.wrong_namespace.error).toMatchObject({ tag: 'unknown-namespace' });
    expect(r.missing_key.error).toMatchObject({ tag: 'missing-element' });
    expect(r.create_existing.error).toMatchObject({ tag: 'data-exists' });
    expect(r.create_existing.error.path).toBe("/vcn:services/vcn:service[vcn:name='web']/vcn:acl/vcn:rule[vcn:seq='1']");
    expect(r.delete_missing.error).toMatchObject({ tag: 'data-missing' });
    expect(r.bad_operation_attr.error).toMatchObject({ tag: 'bad-attribute' });
    expect(r.semantic.error).toMatchObject({ tag: 'data-missing', app_tag: 'UNKNOWN_DEVICE' });
    expect(r.semantic.error.path).toContain("vcn:step[vcn:seq='1']/vcn:device");
    expect(r.rollback_on_error.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.unchanged_after_rollback).toBe(true);
    expect(r.continue_on_error.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.changed_after_continue).toBe(true);
    expect(r.test_only).toHaveProperty('ok');
    expect(r.not_applied_after_test_only).toBe(true);
    expect(r.set_invalid).toHaveProperty('ok');
    expect(r.validate_invalid.error).toMatchObject({ app_tag: 'UNKNOWN_DEVICE' });
    expect(r.commit_invalid.error).toMatchObject({ app_tag: 'UNKNOWN_DEVICE' });
    expect(r.unknown_op.error).toMatchObject({ tag: 'operation-not-supported' });
    expect(r.unknown_ns_op.error).toMatchObject({ tag: 'unknown-namespace' });
    expect(r.unknown_param.error).toMatchObject({ tag: 'unknown-element' });
    expect(r.missing_param.error).toMatchObject({ tag: 'missing-element' });
    expect(r.edit_running.error).toMatchObject({ tag: 'operation-not-supported' });
    expect(r.copy_to_running.error).toMatchObject({ tag: 'operation-not-supported' });
    expect(r.bad_xpath.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.bad_with_defaults.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.confirm_timeout_bad.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.bad_filter_type.error).toMatchObject({ tag: 'bad-attribute' });
    expect(r.xpath_no_select.error).toMatchObject({ tag: 'missing-attribute' });
    expect(r.two_sources.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.url_source.error).toMatchObject({ tag: 'operation-not-supported' });
    expect(r.user_bad_class.error).toMatchObject({ tag: 'invalid-value', app_tag: 'SCHEMA_ENUM', path: "/vcn:system/vcn:login/vcn:user[vcn:name='eve']/vcn:class" });
    expect(r.user_no_class.error).toMatchObject({ tag: 'data-missing', app_tag: 'SCHEMA_MANDATORY' });
    expect(r.user_long_password.error).toMatchObject({ tag: 'invalid-value', app_tag: 'SCHEMA_LENGTH' });
    expect(r.bad_prefix.error).toMatchObject({ tag: 'invalid-value' });
    expect(r.bad_prefix.error.path).toBe('/vcn:system/vcn:management/vcn:allowed-prefix');
    expect(r.limit_out_of_range.error).toMatchObject({ tag: 'invalid-value', app_tag: 'SCHEMA_RANGE' });
    expect(r.still_works).toBe(true);
  });

  it('NACM: a customer edits only its own ACLs; an operator only reads; bad passwords are refused', async () => {
    const r: R = await runNc('nacm', common);
    expect(r.sees_own).toBe(true);
    expect(r.sees_other).toBe(false);
    expect(r.sees_devices).toBe(false);
    expect(r.sees_system).toBe(false);
    expect(r.own_system.error).toMatchObject({ tag: 'access-denied', path: '/vcn:system' });
    expect(r.own_acl).toHaveProperty('ok');
    expect(r.commit).toHaveProperty('ok');
    expect(r.committed_rule).toBe(true);
    expect(r.other_acl.error).toMatchObject({ tag: 'access-denied', app_tag: 'NETCONF_ACCESS_DENIED' });
    expect(r.other_acl.error.path).toContain("vcn:name='svc0'");
    expect(r.own_ip.error).toMatchObject({ tag: 'access-denied' });
    expect(r.copy.error).toMatchObject({ tag: 'access-denied' });
    expect(r.kill.error).toMatchObject({ tag: 'access-denied' });
    expect(r.oper_reads_all).toBe(true);
    expect(r.oper_sees_hashes).toBe(false);
    expect(r.oper_edit.error).toMatchObject({ tag: 'access-denied' });
    expect(r.oper_commit.error).toMatchObject({ tag: 'access-denied' });
    expect(r.bad_password).toBe('AuthenticationError');
  });

  it('notifications: netconf-config-change for a commit by another session, rpcs interleaved', async () => {
    const r: R = await runNc('notify', { ...common, add1: service('ntf', '10.200.2.1', 'srv3') });
    expect(r.subscribe).toHaveProperty('ok');
    expect(r.subscribe_twice.error).toMatchObject({ tag: 'in-use' });
    expect(r.notification).toContain('netconf-config-change');
    expect(r.notification).toContain("vcn:service[vcn:name='ntf']");
    expect(r.notification).toContain('<username>admin</username>');
    expect(r.interleaved_rpc).toBe(true);
  });

  it('vcn rpcs (rollback, compare, commit-history), copy-config and delete-config', async () => {
    const before = d.daemon.northbound.runningCommit()!;
    const inline = CFG(toXml(baseConfig() as never));
    const r: R = await runNc('custom', { ...common, before, inline, add1: service('tmp3', '10.200.1.3', 'srv4') });
    expect(r.history).toContain(`<id>${baseCommit}</id>`);
    expect(r.compare).toContain("vcn:service[vcn:name='tmp3']");
    expect(r.rollback.ok).toMatch(/<commit-id[^>]*>\d+<\/commit-id>/);
    expect(r.gone_after_rollback).toBe(true);
    expect(r.rollback_unknown.error).toMatchObject({ app_tag: 'NO_SUCH_COMMIT' });
    expect(r.copy_startup).toHaveProperty('ok');
    expect(r.startup_has_web).toBe(true);
    expect(r.copy_inline_candidate).toHaveProperty('ok');
    expect(r.candidate_from_inline).not.toContain('web2');
    expect(r.delete_startup).toHaveProperty('ok');
    expect(r.startup_after_delete_has_web).toBe(false);
    expect(r.delete_running.error).toMatchObject({ tag: 'operation-not-supported' });
  });
});
