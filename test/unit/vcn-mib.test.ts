/**
 * VCN-MIB is valid SMIv2: `smilint -l 6` (Debian smitools) reports nothing.
 * smilint exits 0 even on errors, so any output fails the test. The SMIv2 base
 * modules come from the npm net-snmp package (smitools' Debian package ships
 * no IETF MIBs).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MIB = join(ROOT, 'mgmt', 'schema', 'VCN-MIB.txt');

it('smilint -l 6 reports nothing on VCN-MIB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vcn-smi-'));
  try {
    for (const m of ['SNMPv2-SMI', 'SNMPv2-TC', 'SNMPv2-CONF']) copyFileSync(join(ROOT, 'node_modules', 'net-snmp', 'lib', 'mibs', `${m}.mib`), join(dir, m));
    let out: string;
    try {
      out = execFileSync('smilint', ['-l', '6', MIB], { env: { ...process.env, SMIPATH: dir }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      out = `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message;
    }
    expect(out).toBe('');
    // And it really read the module (a missing file or import would print, but be sure).
    const dump = execFileSync('smidump', ['-f', 'identifiers', MIB], { env: { ...process.env, SMIPATH: dir }, encoding: 'utf8' });
    expect(dump).toMatch(/vcnSvcHCInOctets\s+column\s+1\.3\.6\.1\.4\.1\.32473\.1\.1\.2\.1\.7/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
