/**
 * The daemon against the lab with the real nft driver: commit the demo
 * configuration, then a confirmed commit that is not confirmed reverts in
 * place while UDP to the `web` service keeps flowing through the firewall to
 * the server the whole time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../cli/lab/index.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { diffConfigs } from '../../mgmt/northbound/config-diff.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { isRoot, NEEDS_ROOT } from './helpers/root.js';

/** Sends a numbered datagram every 20 ms for `seconds`, counts the echoes, reports the longest silence. */
const PROBE = `
import socket, sys, time, json
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.02)
sent = got = 0; last = time.time(); gap = 0.0; end = time.time() + seconds
while time.time() < end:
    s.sendto(b"p%d" % sent, (host, port)); sent += 1
    try:
        while True:
            s.recv(2048); got += 1; now = time.time(); gap = max(gap, now - last); last = now
    except socket.timeout:
        pass
gap = max(gap, time.time() - last)
print(json.dumps({"sent": sent, "received": got, "maxGapMs": round(gap * 1000)}))
`;

describe.skipIf(!isRoot)(`daemon on the lab (${isRoot ? 'root' : NEEDS_ROOT})`, () => {
  let lab: Lab;
  let daemon: Daemon | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vcnd-lab-'));
  const logs: string[] = [];

  beforeAll(async () => {
    lab = await Lab.up();
    daemon = await startDaemon({ db: join(dir, 'vcn.db'), netns: lab.ns('eng'), log: (l) => logs.push(l) });
  });

  afterAll(async () => {
    await daemon?.stop();
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const probe = async (seconds: number) => {
    const r = await lab.run('cl', ['/usr/bin/python3', '-c', PROBE, lab.plan.service.W1, '9', String(seconds)], { timeoutMs: (seconds + 10) * 1000, allowFail: true });
    return JSON.parse(r.stdout || '{"sent":0,"received":0,"maxGapMs":-1}') as { sent: number; received: number; maxGapMs: number };
  };

  it('commits the demo configuration and web answers through the chain', async () => {
    const nb = daemon!.northbound;
    const s = nb.openSession('alice', 'cli');
    nb.setCandidate(s.id, lab.demoConfig());
    const r = await nb.commit(s.id, { comment: 'demo' });
    expect(r.commit.id).toBe(1);
    const p = await probe(1);
    expect(p.received, JSON.stringify(p)).toBeGreaterThan(p.sent * 0.9);
  });

  it('a confirmed commit reverts in place by itself while web traffic keeps flowing', async () => {
    const nb = daemon!.northbound;
    const s = nb.openSession('bob', 'netconf');
    const demo = checkConfig(lab.demoConfig()).config;
    // The risky change: drop two other services and move web-alias's address.
    nb.editCandidate(s.id, (c) => {
      c.services.service = c.services.service.filter((x) => x.name !== 'web-nat' && x.name !== 'web-ids');
    });
    const flowing = probe(6);
    await new Promise((r) => setTimeout(r, 1000));
    const r = await nb.commit(s.id, { confirmTimeout: 2, comment: 'risky' });
    // A diff normally; a full replace (equally atomic) when the kernel refused the diff.
    expect(['diff', 'full']).toContain(r.apply.mode);
    expect(nb.getConfig(s.id, 'running').services.service.map((x) => x.name)).not.toContain('web-nat');
    // Not confirmed: the revert comes 2 s later, while the probe still runs.
    const p = await flowing;
    await daemon!.northbound.idle();
    const head = nb.history(1)[0];
    expect(head).toMatchObject({ kind: 'revert', user: 'system', parent: r.commit.id });
    expect(diffConfigs(nb.getConfig(s.id, 'running'), demo)).toEqual([]);
    expect(nb.pendingConfirm()).toBeUndefined();
    // Every echo came back across both changes; no silence longer than a few probe intervals.
    expect(p.received, JSON.stringify(p)).toBeGreaterThanOrEqual(p.sent - 2);
    expect(p.maxGapMs, JSON.stringify(p)).toBeLessThan(500);
    console.log(`confirmed-commit revert under traffic: ${JSON.stringify(p)}; commit applied as ${r.apply.mode}; log: ${logs.join(' | ')}`);
  });
});
