/**
 * The TUI on the terminal types a serial console meets (TERM=vt100, vt220,
 * linux) at 80×24 through a real pty, against a daemon on the dry datapath:
 * every screen opens by its key and the help line is on each; no terminfo
 * noise; and an idle screen does not repaint itself (what a refresh writes is
 * measured: at 9600 baud a full 80×24 repaint costs two seconds).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetconfClient } from '../../cli/netconf-client/client.js';
import { fromJson7951, toXml } from '../../mgmt/schema/config-codec.js';
import { startNcDaemon, type NcDaemon } from './helpers/netconf-daemon.js';
import { field, pick, startTui } from './helpers/tui-pty.js';

const SCREENS: [string, RegExp][] = [
  ['s', /Services[\s\S]*web\s+203\.0\.113\.1/],
  ['v', /Devices and pools[\s\S]*POOLS/],
  ['i', /Interfaces[\s\S]*e0\s+uplink/],
  ['c', /Commit[\s\S]*\[ Commit \]/],
  ['h', /History[\s\S]*1 .*base/],
  ['n', /Live counters[\s\S]*SERVICE/],
  ['w', /First-boot setup[\s\S]*Apply and commit/],
  ['d', /Dashboard[\s\S]*Engine/],
];

describe('vcn tui on vt100, vt220 and linux terminals', { timeout: 300_000 }, () => {
  let d: NcDaemon;
  beforeAll(async () => {
    d = await startNcDaemon();
    const c = await NetconfClient.connect({ socket: d.socket });
    const base = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'frontend-base.json'), 'utf8'));
    await c.editConfig(toXml(fromJson7951(base).tree), { defaultOperation: 'replace' });
    await c.commit({ comment: 'base' });
    await c.close();
  });
  afterAll(async () => {
    await d?.stop();
  });

  for (const term of ['vt100', 'vt220', 'linux']) {
    it(`TERM=${term}: every screen opens by its key with the help line; q quits cleanly`, async () => {
      const t = startTui(['--socket', d.socket, '--screen', 'dashboard', '--refresh-ms', '1000'], { TERM: term });
      try {
        await t.waitFor(/Dashboard[\s\S]*Engine/);
        for (const [key, want] of SCREENS) {
          t.send(key);
          const s = await t.waitFor(want);
          expect(t.lines()[23], `help line on ${key}`).toMatch(/\|\s+d s v i c h n w q/);
          expect(s).not.toMatch(/terminfo|Error:|undefined/);
        }
        t.send('q');
        expect(await t.exited()).toBe(0);
      } finally {
        await t.close();
      }
    });
  }

  it('service detail: ACL rules and a step re-pointed at another device go to the candidate and commit; a bad rule shows its code', async () => {
    const t = startTui(['--socket', d.socket, '--screen', 'services', '--refresh-ms', '1000']);
    try {
      await t.waitFor(/web\s+203\.0\.113\.1/);
      await pick(t, 0);
      await t.waitFor('--> [2] pool servers: srv1');
      t.send('a');
      await t.waitFor('Rule (e.g.');
      await t.type('10 deny 192.0.2.0/24\r');
      await t.waitFor(/10 deny\s+192\.0\.2\.0\/24/);
      t.send('a');
      await t.waitFor('Rule (e.g.');
      await t.type('20 deny nonsense\r');
      const err = await t.waitFor(/ERROR SCHEMA_\w+/);
      expect(err).toMatch(/10 deny\s+192\.0\.2\.0\/24/);
      // This daemon runs no health checks: the hop probe says so with its code.
      t.send('p');
      await t.waitFor('ERROR NOT_AVAILABLE');
      t.send('e');
      await t.waitFor('Step to change');
      await t.type('80 2 device srv2\r');
      await t.waitFor('--> [2] srv2 (server, nat 10.0.3.2');
      t.send('c');
      const diff = await t.waitFor('+ services service web port 80 step 2 device srv2');
      expect(diff).toContain('+ services service web acl rule 10 action deny');
      expect(diff).toContain('- services service web port 80 step 2 pool');
      await field(t, 0, 'acl and step');
      await pick(t, 2);
      await t.waitFor(/Commit 2 complete/);
    } finally {
      await t.close();
    }
  });

  it('an idle dashboard refreshing every second writes a small fraction of a full repaint', async () => {
    const t = startTui(['--socket', d.socket, '--screen', 'dashboard', '--refresh-ms', '1000'], { TERM: 'vt220' });
    try {
      await t.waitFor(/Dashboard[\s\S]*Recent events/);
      await new Promise((r) => setTimeout(r, 3000));
      const before = t.bytes();
      await new Promise((r) => setTimeout(r, 10_000));
      const perSecond = (t.bytes() - before) / 10;
      // One full 80×24 repaint is ~1920 bytes plus cursor moves; an idle screen should send next to nothing.
      console.log(`idle dashboard: ${perSecond.toFixed(1)} bytes/s written to the terminal`);
      expect(perSecond).toBeLessThan(200);
    } finally {
      await t.close();
    }
  });
});
