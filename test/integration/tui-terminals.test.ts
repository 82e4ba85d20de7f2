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
import { startTui } from './helpers/tui-pty.js';

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
