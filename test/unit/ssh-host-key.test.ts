/** The NETCONF SSH host key (mgmt/netconf/users.ts hostKey): generated once, kept, and always one ssh2 can load. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { hostKey } from '../../mgmt/netconf/users.js';
import { Store } from '../../mgmt/store/store.js';

const dirs: string[] = [];
const store = () => {
  const d = mkdtempSync(join(tmpdir(), 'vcn-hostkey-'));
  dirs.push(d);
  return Store.open(join(d, 'vcn.db'));
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SSH host key', () => {
  it('is generated at first use and kept', () => {
    const s = store();
    const key = hostKey(s);
    expect(ssh2.utils.parseKey(key)).not.toBeInstanceOf(Error);
    expect(hostKey(s)).toBe(key);
    s.close();
  });

  it('is always one that parses (ssh2 generates an unparseable key text about 1 time in 250)', () => {
    const s = store();
    for (let i = 0; i < 1000; i++) {
      s.setSetting('netconf.host-key', '');
      expect(ssh2.utils.parseKey(hostKey(s))).not.toBeInstanceOf(Error);
    }
    s.close();
  });

  it('replaces a stored key that does not parse', () => {
    const s = store();
    s.setSetting('netconf.host-key', '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n');
    const key = hostKey(s);
    expect(ssh2.utils.parseKey(key)).not.toBeInstanceOf(Error);
    expect(s.setting('netconf.host-key')).toBe(key);
    s.close();
  });
});
