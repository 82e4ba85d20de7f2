/**
 * Fuzzing the NETCONF server of a running daemon process (real nftables in a
 * namespace of its own): thousands of random and mutated frames — truncated
 * and oversized chunks, bad chunk sizes, invalid XML, wrong namespaces,
 * unknown elements, deep nesting, oversized messages — over the unix socket
 * and over SSH, plus garbage at the SSH port itself, while a well-behaved
 * ncclient session (SSH) and a raw session (unix socket) keep doing
 * get-config. The daemon must never crash: its PID is alive at the end, both
 * well-behaved sessions saw every reply, and a fresh session still works and
 * finds no lock left behind. Bounded in time; the seed is printed.
 */
import { execFile } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET_CONFIG, NcClient } from '../../bench/lib/nc-client.js';
import { renameInterfaces, startNcProcess, type NcProcess } from '../../bench/lib/nc-daemon-process.js';
import { scaleConfig } from '../../bench/scale-config.js';
import { toXml } from '../../mgmt/schema/config-codec.js';
import { CATALOGUE, connectionFrames, rng, type Rng } from './helpers/netconf-fuzz-frames.js';
import { requireRoot } from './helpers/root.js';

const hasNcclient = spawnSync('/usr/bin/python3', ['-c', 'import ncclient'], { encoding: 'utf8' }).status === 0;
const MAX_MESSAGE = 1024 * 1024;
const USER = { name: 'fuzz', password: 'fuzz-pw' };
/** Frames to send in all (unix socket + SSH), and the time budget for sending them. */
const FRAMES = 3000;
const BUDGET_MS = 150_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes frames to a stream, then waits until the server closes it or goes quiet. */
const tags = new Map<string, number>();
let replies = 0;

async function play(stream: { write(b: Buffer): unknown; on(e: string, f: (...a: unknown[]) => void): unknown; destroyed?: boolean }, frames: Buffer[], r: Rng): Promise<{ closedByServer: boolean; bytesIn: number }> {
  let closed = false;
  let last = Date.now();
  let bytesIn = 0;
  let text = '';
  stream.on('close', () => (closed = true));
  stream.on('error', () => (closed = true));
  stream.on('data', (b) => {
    bytesIn += (b as Buffer).length;
    last = Date.now();
    text += (b as Buffer).toString('latin1');
    replies += text.split('<rpc-reply').length - 1;
    // Tally the error tags the server answered with (whole tags only; the rest waits for more data).
    for (let m = /<error-tag>([a-z-]+)<\/error-tag>/.exec(text); m; m = /<error-tag>([a-z-]+)<\/error-tag>/.exec(text)) {
      tags.set(m[1], (tags.get(m[1]) ?? 0) + 1);
      text = text.slice(m.index + m[0].length);
    }
    // Keep only a tail that may hold the start of a tag cut by this read.
    text = text.slice(-30).replace(/^.*<rpc-reply/s, '');
  });
  for (const f of frames) {
    if (closed) break;
    // Sometimes split a frame across writes, at a random point.
    if (f.length > 2 && r() < 0.2) {
      const at = 1 + Math.floor(r() * (f.length - 1));
      stream.write(f.subarray(0, at));
      await sleep(1);
      if (!closed) stream.write(f.subarray(at));
    } else stream.write(f);
  }
  const t0 = Date.now();
  last = Date.now();
  // The server answers one rpc at a time: wait until it closed the session or has been quiet for a while.
  while (!closed && Date.now() - last < 1500 && Date.now() - t0 < 10_000) await sleep(25);
  return { closedByServer: closed, bytesIn };
}

describe.skipIf(!hasNcclient)('NETCONF fuzz against a running daemon (python3-ncclient missing: apt-get install -y python3-ncclient)', () => {
  let p: NcProcess;
  const seed = Number(process.env.NC_FUZZ_SEED ?? randomInt(2 ** 31));

  beforeAll(async () => {
    requireRoot();
    p = await startNcProcess({ maxMessage: MAX_MESSAGE });
    const c = await NcClient.unix(p.socket);
    const cfg = renameInterfaces(scaleConfig(20), p.ifnames);
    cfg.system.login.user = [{ name: USER.name, class: 'admin', password: USER.password, 'ssh-key': [] }];
    const edit = await c.rpc(`<edit-config><target><candidate/></target><default-operation>replace</default-operation><config>${toXml(cfg as never)}</config></edit-config>`);
    expect(edit).toContain('<ok/>');
    expect(await c.rpc('<commit/>')).toContain('<ok/>');
    c.close();
  }, 120_000);

  afterAll(async () => {
    await p?.stop();
  }, 60_000);

  it('thousands of random and mutated frames over the unix socket and SSH; well-behaved sessions are served throughout', async () => {
    console.log(`netconf fuzz seed ${seed} (NC_FUZZ_SEED=${seed} repeats this run)`);
    const r = rng(seed);
    const stopFile = join(p.dir, 'stop-steady');
    // The well-behaved ncclient session over SSH.
    const steadyNc = new Promise<Record<string, unknown>>((resolve, reject) => {
      execFile(
        '/usr/bin/python3',
        [join(import.meta.dirname, 'ncclient', 'steady.py'), JSON.stringify({ port: p.sshPort, user: USER.name, password: USER.password, stop: stopFile, max_s: BUDGET_MS / 1000 + 60 })],
        { cwd: join(import.meta.dirname, 'ncclient'), timeout: BUDGET_MS + 120_000 },
        (err, stdout, stderr) => {
          try {
            resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>);
          } catch {
            reject(new Error(`steady.py: ${err?.message}\n${stdout}\n${stderr}`));
          }
        },
      );
    });
    // The well-behaved raw session over the unix socket.
    const raw = await NcClient.unix(p.socket);
    const rawStats = { ok: 0, errors: [] as string[] };
    let stopRaw = false;
    const rawLoop = (async () => {
      while (!stopRaw) {
        try {
          const reply = await raw.rpc(GET_CONFIG());
          if (reply.includes('<name>svc0</name>')) rawStats.ok++;
          else rawStats.errors.push(reply.slice(0, 300));
        } catch (e) {
          rawStats.errors.push((e as Error).message);
          return;
        }
        await sleep(50);
      }
    })();

    // First the catalogue: every kind of wrong message once, each answered by its rpc-error, in order.
    const cat = await NcClient.unix(p.socket);
    for (const m of CATALOGUE) {
      const reply = await cat.send(m);
      expect(reply, m).toContain('<rpc-error>');
      for (const t of reply.matchAll(/<error-tag>([a-z-]+)<\/error-tag>/g)) tags.set(t[1], (tags.get(t[1]) ?? 0) + 1);
    }
    expect(await cat.rpc(GET_CONFIG())).toContain('<name>svc0</name>');
    cat.close();

    const t0 = Date.now();
    let sent = CATALOGUE.length;
    let connections = 0;
    let closedByServer = 0;
    let sshFrames = 0;
    // Unix socket: several fuzz connections at a time.
    const unixWorker = async () => {
      while (sent < FRAMES - 300 && Date.now() - t0 < BUDGET_MS) {
        const plan = connectionFrames(r, 10 + Math.floor(r() * 40), MAX_MESSAGE);
        sent += plan.frames.length;
        connections++;
        const sock: Socket = netConnect(p.socket);
        await new Promise<void>((res) => {
          sock.once('connect', () => res());
          sock.once('error', () => res());
        });
        const res = await play(sock, plan.frames, r);
        if (res.closedByServer) closedByServer++;
        sock.destroy();
      }
    };
    // SSH: the same frames inside the netconf subsystem of an authenticated session.
    const sshWorker = async () => {
      while (sshFrames < 300 && Date.now() - t0 < BUDGET_MS) {
        const plan = connectionFrames(r, 10 + Math.floor(r() * 40), MAX_MESSAGE);
        const conn = new ssh2.Client();
        try {
          const ch = await new Promise<ssh2.ClientChannel>((res, rej) => {
            conn.on('error', rej);
            conn.on('ready', () => conn.subsys('netconf', (e, c) => (e ? rej(e) : res(c))));
            conn.connect({ host: '127.0.0.1', port: p.sshPort, username: USER.name, password: USER.password, readyTimeout: 30_000 });
          });
          await play(ch, plan.frames, r);
          sshFrames += plan.frames.length;
          connections++;
        } finally {
          conn.end();
        }
      }
      // Garbage at the SSH port itself (not even SSH), and an SSH banner followed by garbage.
      for (let i = 0; i < 20; i++) {
        const sock = netConnect(p.sshPort, '127.0.0.1');
        sock.on('error', () => undefined);
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 2000) }, () => Math.floor(r() * 256)));
        await play(sock, [i % 2 ? Buffer.concat([Buffer.from('SSH-2.0-fuzz\r\n'), junk]) : junk], r);
        sshFrames++;
        sock.destroy();
      }
    };
    await Promise.all([unixWorker(), unixWorker(), unixWorker(), unixWorker(), sshWorker()]);
    const elapsed = Date.now() - t0;
    // Let the steady sessions do a few more rounds after the storm.
    await sleep(1500);
    stopRaw = true;
    await rawLoop;
    writeFileSync(stopFile, '');
    const nc = await steadyNc;
    console.log(
      `netconf fuzz: ${sent + sshFrames} frames (${sent} unix, ${sshFrames} ssh) on ${connections} connections in ${elapsed} ms; ` +
        `${replies} rpc-replies; ${closedByServer} unix sessions closed by the server; steady ncclient ${nc.ok} get-config (max ${nc.max_ms} ms), raw ${rawStats.ok}; ` +
        `error tags answered: ${[...tags].map(([t, n]) => `${t} ${n}`).join(', ')}`,
    );

    expect(p.alive()).toBe(true);
    expect(sent + sshFrames).toBeGreaterThanOrEqual(FRAMES);
    // The server looked at what it got: each kind of fault was answered with its rpc-error.
    for (const t of ['malformed-message', 'unknown-element', 'unknown-namespace', 'invalid-value', 'too-big', 'missing-element', 'operation-not-supported']) {
      expect(tags.get(t) ?? 0, t).toBeGreaterThan(0);
    }
    expect(nc.connected).toBe(true);
    expect(nc.errors).toEqual([]);
    expect(nc.ok as number).toBeGreaterThan(10);
    expect(rawStats.errors).toEqual([]);
    expect(rawStats.ok).toBeGreaterThan(10);
    raw.close();

    // A fresh session works, and no fuzz session left a lock or a pending confirmed commit behind.
    const c = await NcClient.unix(p.socket);
    expect(await c.rpc(GET_CONFIG())).toContain('<name>svc19</name>');
    expect(await c.rpc('<discard-changes/>')).toContain('<ok/>');
    await sleep(1500); // a confirmed commit by a closed fuzz session is cancelled as it closes
    expect(await c.rpc('<lock><target><running/></target></lock>')).toContain('<ok/>');
    expect(await c.rpc('<lock><target><candidate/></target></lock>')).toContain('<ok/>');
    expect(await c.rpc('<unlock><target><candidate/></target></unlock>')).toContain('<ok/>');
    expect(await c.rpc('<unlock><target><running/></target></unlock>')).toContain('<ok/>');
    c.close();
    expect(p.stderr()).not.toMatch(/internal error|Uncaught|FATAL|heap out of memory/);
    expect(p.alive()).toBe(true);
  }, BUDGET_MS + 180_000);
});
