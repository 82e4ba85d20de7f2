/**
 * The vcn command against a real daemon over its NETCONF unix socket: every
 * subcommand, its --json output, and the exit codes scripts rely on
 * (0 ok, 1 rejected with the daemon's code, 2 usage, 3 cannot connect,
 * 4 not available). The daemon runs with the dry datapath (no kernel needed).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNcDaemon, type NcDaemon } from './helpers/netconf-daemon.js';

const VCN = join(import.meta.dirname, '..', '..', 'bin', 'vcn');
const BASE = join(import.meta.dirname, 'fixtures', 'frontend-base.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let d: NcDaemon;

function vcn(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(VCN, args, { timeout: 60_000, env: { ...process.env, VCN_SOCKET: d.socket, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await vcn(args);
  expect(r.code, `vcn ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

// Each run starts node + tsx (seconds on a loaded 2-core machine): generous per-test time.
describe('vcn command over NETCONF', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    d = await startNcDaemon();
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('load replace + commit -m; show config, services, devices (text and --json)', async () => {
    await ok(['load', 'replace', BASE]);
    const out = await ok(['commit', '-m', 'base config']);
    expect(out).toMatch(/^commit 1 complete/);
    const text = await ok(['show', 'config']);
    expect(text).toContain('service web {');
    expect(text).toContain('service-ip 203.0.113.1;');
    const json = JSON.parse(await ok(['show', 'config', '--json']));
    expect(json['vcn:services'].service[0].name).toBe('web');
    const services = await ok(['show', 'services']);
    expect(services).toMatch(/web\s+203\.0\.113\.1\s+80\/tcp\s+fw1 > pool servers/);
    const sj = JSON.parse(await ok(['show', 'services', '--json']));
    expect(sj[0].chains[0].hops).toEqual(['fw1', 'pool servers']);
    const devices = await ok(['show', 'devices']);
    expect(devices).toMatch(/fw1\s+firewall\s+transparent\s+10\.0\.1\.10\s+in-service/);
    const dj = JSON.parse(await ok(['show', 'devices', '--json']));
    expect(dj.map((x: { name: string }) => x.name)).toEqual(['fw1', 'ids1', 'srv1', 'srv2']);
    expect(dj.find((x: { name: string }) => x.name === 'srv1').pools).toEqual(['servers']);
  });

  it('set / delete edit the candidate; compare shows it; discard throws it away', async () => {
    await ok(['set', 'system', 'hostname', 'edge1']);
    await ok(['set', 'services', 'service', 'web', 'port', '443', 'protocol', 'tcp']);
    await ok(['set', 'services', 'service', 'web', 'port', '443', 'step', '1', 'device', 'srv1']);
    await ok(['delete', 'services', 'service', 'web', 'customer']);
    const diff = await ok(['compare', 'running', 'candidate']);
    expect(diff).toContain('~ system hostname: vcn -> edge1');
    expect(diff).toContain('+ services service web port 443 protocol tcp');
    expect(diff).toContain('+ services service web port 443 step 1 device srv1');
    expect(diff).toContain('- services service web customer');
    const dj = JSON.parse(await ok(['compare', 'running', 'candidate', '--json']));
    expect(dj.some((c: { operation: string; path: string }) => c.operation === 'changed' && c.path.endsWith('hostname'))).toBe(true);
    expect(await ok(['show', 'config', 'candidate'])).toContain('hostname edge1;');
    await ok(['discard']);
    expect(await ok(['compare', 'running', 'candidate'])).toBe('no differences\n');
  });

  it('validate passes on a good candidate; a duplicate service address is rejected at validate and commit with its code (exit 1), the candidate kept', async () => {
    expect(await ok(['validate'])).toBe('candidate is valid\n');
    await ok(['set', 'services', 'service', 'web2', 'service-ip', '203.0.113.1']);
    await ok(['set', 'services', 'service', 'web2', 'port', '8080', 'step', '1', 'device', 'srv2']);
    const v = await vcn(['validate']);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('error DUPLICATE_SERVICE_ADDRESS');
    const r = await vcn(['commit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('vcn: error DUPLICATE_SERVICE_ADDRESS');
    // Nothing lost: the edit is still in the candidate.
    expect(await ok(['show', 'config', 'candidate'])).toContain('service web2 {');
    await ok(['set', 'services', 'service', 'web2', 'service-ip', '203.0.113.2']);
    expect(await ok(['commit', '-m', 'web2', '--json'])).toMatch(/"commitId":2/);
  });

  it('a type error in set is rejected by the daemon with its code and path (exit 1)', async () => {
    const r = await vcn(['set', 'system', 'hostname', 'bad_host']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error SCHEMA_PATTERN at /vcn:system/vcn:hostname');
  });

  it('usage errors exit 2 and name the problem', async () => {
    for (const args of [['show'], ['show', 'nothing'], ['set', 'system', 'hostnam', 'x'], ['set', 'system', 'hostname'], ['rollback', 'x'], ['commit', 'later'], ['load', 'sideways', 'f'], ['frobnicate'], ['compare', 'yesterday', 'running'], ['show', 'config', '--bogus']]) {
      const r = await vcn(args);
      expect(r.code, `vcn ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.length).toBeGreaterThan(0);
    }
  });

  it('cannot connect exits 3 (--socket and VCN_SOCKET)', async () => {
    const r = await vcn(['show', 'config', '--socket', join(d.dir, 'nope.sock')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot connect to the daemon at .*nope\.sock/);
    const r2 = await vcn(['show', 'commits'], { VCN_SOCKET: join(d.dir, 'none.sock') });
    expect(r2.code).toBe(3);
  });

  it('commit confirmed N survives the command; confirm keeps it; cancel-commit reverts another one', async () => {
    await ok(['set', 'system', 'hostname', 'edge2']);
    expect(await ok(['commit', 'confirmed', '300', '-m', 'risky'])).toMatch(/^commit 3 complete; reverts at .* unless confirmed/);
    // Another command, another session: the pending commit is still there.
    const blocked = await vcn(['rollback', '1']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('CONFIRMED_COMMIT_PENDING');
    expect(await ok(['confirm'])).toBe('confirmed\n');
    expect(await ok(['show', 'config'])).toContain('hostname edge2;');
    await ok(['set', 'system', 'hostname', 'edge3']);
    await ok(['commit', 'confirmed', '300']);
    expect(await ok(['cancel-commit', '--json'])).toMatch(/"commitId":5/);
    expect(await ok(['show', 'config'])).toContain('hostname edge2;');
    const none = await vcn(['confirm']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('NO_PENDING_CONFIRM');
  });

  it('show commits / rollback N / compare A B (text and --json)', async () => {
    const h = JSON.parse(await ok(['show', 'commits', '--json']));
    expect(h.map((c: { id: number }) => c.id)).toEqual([5, 4, 3, 2, 1]);
    expect(h.find((c: { id: number }) => c.id === 1).comment).toBe('base config');
    expect(await ok(['show', 'commits'])).toMatch(/1\s+\S+ \S+\s+root\s+cli\s+commit\s+base config/);
    expect(await ok(['compare', '1', '2'])).toContain('+ services service web2 service-ip 203.0.113.2');
    expect(await ok(['rollback', '1', '-m', 'back to base'])).toBe('rolled back to commit 1 as commit 6\n');
    expect(await ok(['show', 'config'])).not.toContain('web2');
    expect(await ok(['compare', '1', 'running'])).toBe('no differences\n');
    const bad = await vcn(['rollback', '999']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('NO_SUCH_COMMIT');
  });

  it('show counters and events (text and --json)', async () => {
    const cj = JSON.parse(await ok(['show', 'counters', '--json']));
    expect(Array.isArray(cj)).toBe(true);
    expect(await ok(['show', 'counters'])).toMatch(/^SERVICE\s+PORT\s+IN-PKTS/);
    const ev = JSON.parse(await ok(['show', 'events', '--json']));
    expect(ev.some((e: { kind: string }) => e.kind === 'daemon-start')).toBe(true);
    expect(ev.some((e: { kind: string }) => e.kind === 'revert')).toBe(true);
    expect(await ok(['show', 'events'])).toMatch(/revert\s+5|revert/);
  });

  it('load merge adds to the candidate; a malformed file is rejected (exit 1)', async () => {
    const f = join(d.dir, 'add.json');
    writeFileSync(f, JSON.stringify({ 'vcn:system': { hostname: 'merged' } }));
    await ok(['load', 'merge', f]);
    expect(await ok(['show', 'config', 'candidate'])).toMatch(/hostname merged;[\s\S]*service web \{/);
    await ok(['discard']);
    const g = join(d.dir, 'bad.json');
    writeFileSync(g, '{ not json');
    expect((await vcn(['load', 'merge', g])).code).toBe(1);
    expect((await vcn(['load', 'merge', join(d.dir, 'missing.json')])).code).toBe(2);
  });

  it('validate SERVICE and trace say they are not available with exit 4 on a daemon without health checks; trace usage exits 2', async () => {
    const r = await vcn(['validate', 'web']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error NOT_AVAILABLE');
    expect(r.stderr).toContain('health checking does not run');
    const t = await vcn(['trace', '192.0.2.7', '203.0.113.1']);
    expect(t.code).toBe(4);
    expect((await vcn(['trace', '192.0.2.7'])).code).toBe(2);
  });
});
