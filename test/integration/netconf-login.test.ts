/**
 * Logins come from the running configuration (system/login, system/management),
 * driven with Debian's python3-ncclient over SSH: the store's bootstrap admin
 * until users are committed; clear-text passwords stored as scrypt hashes;
 * password and public-key logins; hashes hidden from operators; allowed
 * source prefixes; failed-login blocking; rollback brings back the earlier
 * users. The daemon runs over the dry datapath.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { scaleConfig } from '../../bench/scale-config.js';
import { ADMIN_PASSWORD, runNc, startNcDaemon, type NcDaemon } from './helpers/netconf-daemon.js';

const hasNcclient = spawnSync('/usr/bin/python3', ['-c', 'import ncclient'], { encoding: 'utf8' }).status === 0;
type R = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Step = { user: string; password?: string; key?: string; edit?: string; get?: boolean; compare?: string | number };

const NC = 'urn:ietf:params:xml:ns:netconf:base:1.0';

describe.skipIf(!hasNcclient)('NETCONF logins from the configuration (python3-ncclient missing: apt-get install -y python3-ncclient)', () => {
  let d: NcDaemon;
  let keyFile: string;
  let otherKeyFile: string;
  let alicePub: string;
  const steps = (s: Step[]): Promise<R[]> => runNc<R[]>('login', { port: d.port, steps: s }, 90_000);
  const nb = () => d.daemon.northbound;
  /** Commits a change made in process (as the console would) and returns the commit id. */
  const commitEdit = async (edit: (c: Config) => void): Promise<number> => {
    const s = nb().openSession('test', 'system');
    try {
      nb().editCandidate(s.id, (c) => {
        edit(c);
      });
      return (await nb().commit(s.id)).commit.id;
    } finally {
      nb().closeSession(s.id);
    }
  };
  const events = (kind: string) => d.daemon.store.events(500).filter((e) => e.kind === kind);

  beforeAll(async () => {
    d = await startNcDaemon();
    const alice = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'alice@test' });
    const other = ssh2.utils.generateKeyPairSync('ed25519');
    keyFile = join(d.dir, 'alice_ed25519');
    otherKeyFile = join(d.dir, 'other_ed25519');
    writeFileSync(keyFile, alice.private, { mode: 0o600 });
    writeFileSync(otherKeyFile, other.private, { mode: 0o600 });
    alicePub = alice.public;
    d.daemon.netconf!.server.users.set({ name: 'boot', role: 'admin', password: 'boot-pw' });
    const s = nb().openSession('setup', 'system');
    nb().setCandidate(s.id, scaleConfig(2));
    await nb().commit(s.id);
    nb().closeSession(s.id);
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('bootstrap users until the configuration has users; then configured users with hashed passwords, keys and roles', async () => {
    expect(d.daemon.netconf!.server.access.source()).toBe('bootstrap');
    const before = nb().runningCommit()!;
    const users =
      `<system xmlns="urn:vcn:appliance"><login>` +
      `<user><name>admin</name><class>admin</class><password>${ADMIN_PASSWORD}</password></user>` +
      `<user><name>alice</name><class>admin</class><ssh-key>${alicePub}</ssh-key></user>` +
      `<user><name>oper</name><class>operator</class><password>oper-pw</password></user>` +
      `<user><name>acme</name><class>customer</class><customer>acme</customer><password>acme-pw</password></user>` +
      `</login></system>`;
    const [boot, edit] = await steps([
      { user: 'boot', password: 'boot-pw', get: true },
      { user: 'admin', password: ADMIN_PASSWORD, edit: `<config xmlns="${NC}">${users}</config>`, get: true },
    ]);
    expect(boot.ok).toBe(true);
    expect(edit.edit).toHaveProperty('ok');
    // The stored candidate holds hashes, never the clear text.
    expect(edit.candidate_passwords).toHaveLength(3);
    for (const p of edit.candidate_passwords) expect(p).toMatch(/^\$scrypt\$16384\$8\$1\$/);
    expect(edit.commit).toHaveProperty('ok');
    expect(edit.users).toEqual(['admin', 'alice', 'oper', 'acme']);
    expect(edit.passwords).toEqual(edit.candidate_passwords);
    const stored = nb().getConfig(nb().openSession('t', 'system').id, 'running').system.login.user;
    expect(stored.map((u) => u.password?.slice(0, 8))).toEqual(['$scrypt$', undefined, '$scrypt$', '$scrypt$']);
    expect(d.daemon.netconf!.server.access.source()).toBe('configuration');

    const [key, badKey, oper, boot2, noUser, wrongPw, again] = await steps([
      { user: 'alice', key: keyFile, get: true },
      { user: 'alice', key: otherKeyFile },
      { user: 'oper', password: 'oper-pw', get: true, compare: before },
      { user: 'boot', password: 'boot-pw' },
      { user: 'nobody', password: 'x' },
      { user: 'oper', password: 'wrong' },
      // A hash written back unchanged stays the same hash (accepted as it is).
      { user: 'admin', password: ADMIN_PASSWORD, edit: `<config xmlns="${NC}"><system xmlns="urn:vcn:appliance"><login><user><name>oper</name><password>${edit.passwords[1]}</password></user></login></system></config>`, get: true },
    ]);
    expect(key.ok).toBe(true);
    expect(key.passwords).toHaveLength(3); // alice is an admin: she sees the hashes
    expect(badKey.error).toBe('AuthenticationError');
    expect(oper.ok).toBe(true);
    expect(oper.users).toEqual(['admin', 'alice', 'oper', 'acme']);
    expect(oper.passwords).toEqual([]); // NACM: no hashes for operators
    expect(oper.data).not.toContain('$scrypt$');
    expect(oper.compare.ok).toContain('login');
    expect(oper.compare.ok).not.toContain('$scrypt$');
    expect(boot2.error).toBe('AuthenticationError'); // bootstrap users are out once the configuration names users
    expect(noUser.error).toBe('AuthenticationError');
    expect(wrongPw.error).toBe('AuthenticationError');
    expect(again.passwords[2]).toBe(edit.passwords[2]);
    expect(events('login-failed').map((e) => JSON.parse(e.detail!).user)).toEqual(expect.arrayContaining(['alice', 'boot', 'nobody', 'oper']));
  });

  it('a source outside the allowed prefixes is refused; a rollback lets it in again', async () => {
    const open = nb().runningCommit()!;
    await commitEdit((c) => {
      c.system.management['allowed-prefix'] = ['192.0.2.0/24', '2001:db8::/32'];
    });
    const [refused] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(refused.error).toBeDefined();
    expect(refused.error).not.toBe('AuthenticationError'); // refused before authentication
    expect(events('login-refused')[0].subject).toBe('127.0.0.1');
    await commitEdit((c) => {
      c.system.management['allowed-prefix'] = ['10.0.0.0/8', '127.0.0.0/8'];
    });
    const [allowed] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(allowed.ok).toBe(true);
    await commitEdit((c) => {
      c.system.management['allowed-prefix'] = ['192.0.2.0/24'];
    });
    const s = nb().openSession('test', 'system');
    await nb().rollback(s.id, open);
    nb().closeSession(s.id);
    const [back] = await steps([{ user: 'oper', password: 'oper-pw' }]);
    expect(back.ok).toBe(true);
  });

  it('max-failures failed logins within the window block the source for block-time, then it may log in again', async () => {
    await commitEdit((c) => {
      c.system.management['login-limit'] = { 'max-failures': 3, window: 60, 'block-time': 3 };
    });
    const failedBefore = events('login-failed').length;
    const r = await steps([
      { user: 'admin', password: 'guess1' },
      { user: 'admin', password: 'guess2' },
      { user: 'oper', password: 'guess3' },
      { user: 'admin', password: ADMIN_PASSWORD }, // right, but the source is blocked
    ]);
    expect(r.slice(0, 3).map((x) => x.error)).toEqual(['AuthenticationError', 'AuthenticationError', 'AuthenticationError']);
    expect(r[3].ok).toBeUndefined();
    expect(events('login-failed').length - failedBefore).toBe(3);
    const blocked = events('login-blocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0].subject).toBe('127.0.0.1');
    await new Promise((res) => setTimeout(res, 3500));
    const [after] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(after.ok).toBe(true);
  });
});
