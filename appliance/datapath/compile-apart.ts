/**
 * nft compiling the new chains of a diff (netlink-chains.ts) into the
 * dormant scratch table in a network namespace of its own, not the engine's.
 *
 * Why: nft reads every named object of every table before it runs a script;
 * the engine's table holds ~20k of them at 100k services (rate limits), which
 * costs ~100 ms per nft run in the engine's namespace, whatever the script.
 *
 * How: a python3 co-process (py-coprocess.ts) started under `unshare --net`,
 * so its namespace is its own and goes away with it (nothing to name or clean
 * up). It holds a stand-in interface for each of the engine's, with the same
 * name and index, so that `fwd to` / `dup to` compile to the indexes they
 * have in the engine's namespace; every request names the interfaces, and the
 * stand-ins are made again when they differ. Then libnftables runs the script
 * (nft-lib.ts's run_nft) and the table is dumped
 * (netlink-table-dump.ts).
 *
 * Wire format: <u32 length><u32 kind><interfaces "7:e0 8:e1"> \0 <table> \0 <script>;
 * kind 1 runs the script and answers {"rc": 0, "dump": base64} or
 * {"rc": n, "error": nft's message}; kind 2 only makes the stand-ins (a warm-up)
 * and answers {"rc": n, "error": ip's message}.
 */
import { DatapathError } from './datapath.js';
import { NETLINK_TABLE_DUMP_FN } from './netlink-table-dump.js';
import { NFT_RUN_FN } from './nft-lib.js';
import { PY_COPROCESS_IO, PyCoprocess } from './py-coprocess.js';

const COMPILE = 1;
const WARM = 2;

export const COMPILE_APART_PY = `
import base64, json, os, socket, struct, subprocess, sys
${NFT_RUN_FN}
${PY_COPROCESS_IO}
${NETLINK_TABLE_DUMP_FN}
mirrored = None
def mirror(text):
    global mirrored
    if text == mirrored:
        return 0, ''
    mirrored = None
    lines = ['link del %s' % name for index, name in socket.if_nameindex() if index != 1]
    for entry in text.split():
        index, name = entry.split(':', 1)
        # A bridge: a one-ended device every kernel here has (dummy may be missing).
        if index != '1':
            lines.append('link add name %s index %s type bridge' % (name, index))
    r = subprocess.run(['ip', '-batch', '-'], input='\\n'.join(lines) + '\\n', capture_output=True, text=True)
    if r.returncode == 0:
        mirrored = text
    return r.returncode, r.stderr.strip()
while True:
    size, kind = struct.unpack('=II', read(8))
    interfaces, table, script = read(size).decode().split('\\0', 2)
    rc, err = mirror(interfaces)
    if rc or kind == ${WARM}:
        out.write(json.dumps({'rc': rc, 'error': err, 'stage': 'interfaces'}) + '\\n')
        out.flush()
        continue
    rc, err = run_nft(script.encode(), False)
    if rc:
        out.write(json.dumps({'rc': rc, 'error': err}) + '\\n')
    else:
        chunks = []
        try:
            dump_table(table, chunks.append)
            out.write(json.dumps({'rc': 0, 'dump': base64.b64encode(b''.join(chunks)).decode()}) + '\\n')
        except (DumpError, OSError) as e:
            out.write(json.dumps({'rc': 1, 'error': str(e), 'stage': 'dump'}) + '\\n')
    out.flush()
`;

interface Answer {
  rc: number;
  error?: string;
  dump?: string;
  stage?: 'interfaces' | 'dump';
}

export class CompileApart {
  private readonly co: PyCoprocess;

  constructor(opts: { python: string; timeoutMs?: number }) {
    this.co = new PyCoprocess('compile namespace', COMPILE_APART_PY, { python: opts.python, timeoutMs: opts.timeoutMs, prefix: ['unshare', '--net', '--'] });
  }

  private async request(kind: number, interfaces: string, table = '', script = ''): Promise<Answer> {
    const a = (await this.co.request(Buffer.from(`${interfaces}\0${table}\0${script}`), kind)) as Answer;
    if (a.rc !== 0 && a.stage) throw new DatapathError('NFT_UNAVAILABLE', `compile namespace: ${a.stage}: ${a.error ?? ''}`);
    return a;
  }

  /** Runs the script (nft -f) apart and returns the framed netlink dump of `table` there (netlink-table-dump.ts). */
  async compile(script: string, table: string, interfaces: string): Promise<Buffer> {
    const a = await this.request(COMPILE, interfaces, table, script);
    if (a.rc !== 0) throw new DatapathError('NFT_REJECTED', a.error ?? 'nft refused the script', a.error);
    return Buffer.from(a.dump ?? '', 'base64');
  }

  /** Starts the co-process and makes the stand-ins: the first new chain then costs no python start (~100 ms). */
  async warm(interfaces: string): Promise<void> {
    await this.request(WARM, interfaces);
  }

  close(): void {
    this.co.close();
  }
}
