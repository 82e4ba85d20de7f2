/**
 * Logins come from the running configuration (system/login, system/management),
 * driven with Debian's python3-ncclient over SSH: the store's bootstrap admin
 * until users are committed; clear-text passwords stored as scrypt hashes;
 * password and public-key logins; hashes hidden from operators; allowed
 * source prefixes; failed-login blocking; rollback brings back the earlier
 * users; the SSH listener follows system/management/netconf. The daemon runs
 * over the dry datapath.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { scaleConfig } from '../../bench/scale-config.js';
import { YANG_FILE } from '../../mgmt/schema/generate.js';
import { followSsh } from '../../mgmt/netconf/ssh-follow.js';
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
  const steps = (s: Step[]): Promise<R[]> => runNc<R[]>('login', { port: d.daemon.netconf!.ssh!.port, steps: s }, 90_000);
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
    // yanglint accepts both views of the system container: the admin's (hashes) and the operator's (none)
    for (const [who, xml] of [
      ['admin', key.data],
      ['oper', oper.data],
    ]) {
      const file = join(d.dir, `get-config-${who}.xml`);
      writeFileSync(file, String(xml).replace(/^<\?xml[^>]*\?>/, '').replace(/^<data[^>]*>/, '').replace(/<\/data>$/, ''));
      expect(String(xml)).toContain('<login><user><name>admin</name>');
      execFileSync('yanglint', ['-t', 'config', YANG_FILE, file]);
    }
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
    await sleep(3500);
    const [after] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(after.ok).toBe(true);
  });

  it('at most 64 SSH connections are open at once; the rest are turned away, and logins work again once they close', async () => {
    const port = d.daemon.netconf!.ssh!.port;
    const idle = await Promise.all(Array.from({ length: 64 }, () => idleConnection(port)));
    expect(idle.every((c) => !c.closed())).toBe(true);
    const extra = await idleConnection(port);
    for (let i = 0; i < 100 && !extra.closed(); i++) await sleep(50);
    expect(extra.closed()).toBe(true);
    for (const c of [...idle, extra]) c.sock.destroy();
    await sleep(500);
    const [after] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(after.ok).toBe(true);
  });

  it('the SSH listener follows system/management/netconf: enabled closes and opens it, port moves it', async () => {
    const follower = d.daemon.netconf!.ssh!;
    await commitEdit((c) => {
      c.system.management.netconf.enabled = false;
    });
    const settle = async (pred: () => boolean) => {
      for (let i = 0; i < 100 && !pred(); i++) await sleep(50);
      await follower.settled();
    };
    await settle(() => follower.port === 0);
    expect(follower.port).toBe(0);
    const [off] = await runNc<R[]>('login', { port: d.port, steps: [{ user: 'admin', password: ADMIN_PASSWORD }] }, 60_000);
    expect(off.error).toBeDefined();
    await commitEdit((c) => {
      c.system.management.netconf.enabled = true;
    });
    await settle(() => follower.port !== 0);
    const [on] = await steps([{ user: 'admin', password: ADMIN_PASSWORD }]);
    expect(on.ok).toBe(true);

    // Without a port from the command line, the configured port is the one.
    const [p1, p2] = [await freePort(), await freePort()];
    await commitEdit((c) => {
      c.system.management.netconf.port = p1;
    });
    const own = await followSsh(d.daemon.netconf!.server, { host: '127.0.0.1' }, 100);
    try {
      expect(own.port).toBe(p1);
      await commitEdit((c) => {
        c.system.management.netconf.port = p2;
      });
      for (let i = 0; i < 100 && own.port !== p2; i++) await sleep(50);
      await own.settled();
      expect(own.port).toBe(p2);
      const [moved] = await runNc<R[]>('login', { port: p2, steps: [{ user: 'oper', password: 'oper-pw' }] }, 60_000);
      expect(moved.ok).toBe(true);
    } finally {
      await own.close();
    }
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP connection to the SSH port that says nothing: resolves once the server's banner came. */
function idleConnection(port: number): Promise<{ sock: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.on('close', () => (closed = true));
    sock.once('data', () => resolve({ sock, closed: () => closed }));
    sock.once('close', () => resolve({ sock, closed: () => true }));
  });
}

/** A TCP port nothing listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
