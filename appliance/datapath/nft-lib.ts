/**
 * nft scripts through libnftables in a co-process (py-coprocess.ts) instead of
 * one `nft` process per script: Debian's python3-nftables binds the library
 * nft itself is built on (the same parser, evaluator and error text), and a
 * small script costs 0.5–3 ms instead of ~15 ms of `ip netns exec nft` start.
 * That is most of a commit that adds a chain (check + apply: two scripts).
 *
 * Each request gets a fresh library context, like a fresh nft process: no
 * cache from an earlier script (a dry run's objects, say) is trusted. The
 * script is read as a file (a memfd), not a buffer: libnftables 1.0.6 quotes
 * the first line of a buffer in its error messages whatever line was wrong.
 * Wire format: <u32 script length><u32 1: check (dry run), 0: apply><script>;
 * answer {"rc": n, "error": "nft's message"}. A python3 without the module
 * exits at start: the caller then runs nft.
 */
import { DatapathError } from './datapath.js';
import { PY_COPROCESS_IO, PyCoprocess, type CoprocessOptions } from './py-coprocess.js';

export const NFT_LIB_PY = `
import json, os, struct, sys
sys.path.append('/usr/lib/python3/dist-packages')
from nftables import Nftables
${PY_COPROCESS_IO}
while True:
    size, check = struct.unpack('=II', read(8))
    fd = os.memfd_create('script')
    os.write(fd, read(size))
    path = '/proc/self/fd/%d' % fd
    nft = Nftables()
    nft.set_dry_run(bool(check))
    rc, _, err = nft.cmd_from_file(path)
    del nft
    os.close(fd)
    out.write(json.dumps({'rc': rc, 'error': (err or '').replace(path + ':', 'script:')}) + '\\n')
    out.flush()
`;

export class NftLib {
  private readonly co: PyCoprocess;
  /** Scripts it has answered: one that never answered has no usable module (python3-nftables missing). */
  answered = 0;

  constructor(opts: CoprocessOptions = {}) {
    this.co = new PyCoprocess('libnftables runner', NFT_LIB_PY, opts);
  }

  /**
   * Runs the script as `nft [-c] -f` would. nft's refusal comes back as NFT_REJECTED with its message;
   * a runner that cannot work (no python3-nftables) as NFT_UNAVAILABLE.
   */
  async script(script: string, check: boolean): Promise<void> {
    const r = (await this.co.request(Buffer.from(script), check ? 1 : 0)) as { rc: number; error: string };
    this.answered++;
    if (r.rc !== 0) throw new DatapathError('NFT_REJECTED', r.error, r.error);
  }

  close(): void {
    this.co.close();
  }
}
