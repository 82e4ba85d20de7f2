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

/**
 * `run_nft(script, check)` → (rc, nft's error text): a fresh library context, the script read from a memfd
 * (see above). Needs os, sys. Used here and by the compile co-process (compile-apart.ts).
 */
export const NFT_RUN_FN = `
sys.path.append('/usr/lib/python3/dist-packages')
from nftables import Nftables
def run_nft(script, check):
    fd = os.memfd_create('script')
    os.write(fd, script)
    path = '/proc/self/fd/%d' % fd
    nft = Nftables()
    nft.set_dry_run(bool(check))
    rc, _, err = nft.cmd_from_file(path)
    del nft
    os.close(fd)
    return rc, (err or '').replace(path + ':', 'script:')
`;

export const NFT_LIB_PY = `
import json, os, struct, sys
${NFT_RUN_FN}
${PY_COPROCESS_IO}
while True:
    size, check = struct.unpack('=II', read(8))
    rc, err = run_nft(read(size), check)
    out.write(json.dumps({'rc': rc, 'error': err}) + '\\n')
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
