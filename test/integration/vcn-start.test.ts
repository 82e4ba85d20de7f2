/** The README's run command, as a user runs it: `vcn start` brings the lab and engine up, explains, and leaves nothing behind. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireRoot } from './helpers/root.js';

const root = join(import.meta.dirname, '../..');

describe('vcn start', () => {
  it('--once brings up the lab, loads the demo into the engine, prints how to use it, and tears everything down', () => {
    requireRoot();
    const r = spawnSync(join(root, 'bin/vcn'), ['start', '--once'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the daemon committed the demo as commit 1 in \d+ ms/);
    expect(r.stdout).toMatch(/engine loaded 6 services \(\d+ sequence-table rows/);
    expect(r.stdout).toMatch(/web-nat\s+\S+ port 8000\s+→ snat/);
    const ns = /table netdev vcn of namespace (\S+)\./.exec(r.stdout)![1];
    const snmpd = /SNMP: snmpd \(pid (\d+)\) on 127\.0\.0\.1:161/.exec(r.stdout);
    expect(snmpd, r.stdout).not.toBeNull();
    expect(() => process.kill(Number(snmpd![1]), 0)).toThrow(); // stopped with the daemon
    expect(r.stdout).toContain('stopping the daemon and tearing down the lab');
    expect(r.stdout).toMatch(/VCN_SOCKET=\S+netconf.sock bin\/vcn tui/);
    expect(r.stdout).toContain('every namespace and process it made is gone');
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(list).not.toContain(ns.replace(/-eng$/, ''));
  });
});
