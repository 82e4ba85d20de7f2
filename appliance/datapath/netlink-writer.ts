/**
 * Sends netlink batches (netlink-batch.ts) to the kernel. Node cannot open a
 * netlink socket, so a python3 co-process (py-coprocess.ts; Debian's, standard
 * library only) holds a NETLINK_NETFILTER socket inside the engine's
 * namespace and does the socket I/O.
 *
 * Wire format on its stdin: <u32 batch length><u32 acks expected><batch>;
 * on its stdout, one JSON line per batch: {"errors": [[seq, errno, text], ...]}.
 * Two more requests save a process start each where it counts (a diff that adds
 * chains, netlink-chains.ts): acks DUMP with a table name as the payload answers
 * {"dump": base64 of the framed dump} or {"error": text} (netlink-table-dump.ts;
 * for small tables: the answer is one line), and acks INTERFACES answers
 * {"interfaces": "7:eth1 8:eth2"}, the namespace's interface indexes.
 */
import { PY_COPROCESS_IO, PyCoprocess, type CoprocessOptions } from './py-coprocess.js';
import { NETLINK_TABLE_DUMP_FN } from './netlink-table-dump.js';
import { DatapathError } from './datapath.js';

/** Request kinds in the acks field (a batch never expects this many acks). */
const DUMP = 0xffffffff;
const INTERFACES = 0xfffffffe;
import type { ElementBatch } from './netlink-batch.js';

export const NETLINK_WRITER_PY = `
import base64, json, os, socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.setsockopt(270, 10, 1)   # NETLINK_CAP_ACK: acks without the request copied back
try:
    s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK: the kernel's error text
except OSError:
    pass
${PY_COPROCESS_IO}
${NETLINK_TABLE_DUMP_FN}
def ext_msg(data, off, end):
    while off + 4 <= end:
        n, t = struct.unpack_from('=HH', data, off)
        if n < 4:
            break
        if t & 0x3fff == 1:
            return data[off + 4:off + n].split(b'\\0')[0].decode(errors='replace')
        off += (n + 3) & ~3
    return ''
while True:
    size, expect = struct.unpack('=II', read(8))
    batch = read(size)
    if expect == ${DUMP}:
        chunks = []
        try:
            dump_table(batch.decode(), chunks.append)
            out.write(json.dumps({'dump': base64.b64encode(b''.join(chunks)).decode()}) + '\\n')
        except (DumpError, OSError) as e:
            out.write(json.dumps({'error': str(e)}) + '\\n')
        out.flush()
        continue
    if expect == ${INTERFACES}:
        out.write(json.dumps({'interfaces': ' '.join('%d:%s' % p for p in socket.if_nameindex())}) + '\\n')
        out.flush()
        continue
    s.setsockopt(socket.SOL_SOCKET, 32, size + 65536)            # SO_SNDBUFFORCE
    s.setsockopt(socket.SOL_SOCKET, 33, max(1 << 20, expect * 1024))  # SO_RCVBUFFORCE: an ack's skb takes ~700 bytes of the buffer
    errors, got = [], 0
    try:
        s.send(batch)
        s.settimeout(60)
        while got < expect:
            data = s.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                n, t, flags = struct.unpack_from('=IHH', data, off)
                if n < 16:
                    break
                if t == 2:
                    err = struct.unpack_from('=i', data, off + 16)[0]
                    seq = struct.unpack_from('=I', data, off + 28)[0]
                    got += 1
                    if err:
                        # With CAP_ACK the request header (16 bytes) follows the errno; TLVs after it when flagged.
                        text = ext_msg(data, off + 36, off + n) if flags & 0x200 else ''
                        errors.append([seq, -err, text or os.strerror(-err)])
                        if seq == 1:
                            got = expect
                off += (n + 3) & ~3
    except OSError as e:
        errors.append([0, e.errno or 0, str(e)])
    out.write(json.dumps({'errors': errors}) + '\\n')
    out.flush()
`;

export type WriterOptions = CoprocessOptions;

/** One python3 co-process per datapath (py-coprocess.ts). */
export class NetlinkWriter {
  private readonly co: PyCoprocess;

  constructor(opts: WriterOptions = {}) {
    this.co = new PyCoprocess('netlink writer', NETLINK_WRITER_PY, opts);
  }

  /** Why the writer cannot be used (undefined while it can). */
  unavailable(): string | undefined {
    return this.co.unavailable();
  }

  /** Sends the batch; resolves with the kernel's errors per message (empty: accepted). */
  async send(batch: ElementBatch): Promise<[number, number, string][]> {
    return ((await this.co.request(batch.bytes, batch.messages.length)) as { errors: [number, number, string][] }).errors;
  }

  /** The framed dump of a small table (the scratch table), as NETLINK_TABLE_DUMP_PY writes it. */
  async dumpTable(table: string): Promise<Buffer> {
    const a = (await this.co.request(Buffer.from(table), DUMP)) as { dump?: string; error?: string };
    if (a.dump === undefined) throw new DatapathError('NFT_UNAVAILABLE', a.error ?? 'netlink writer: no dump in its answer');
    return Buffer.from(a.dump, 'base64');
  }

  /** The namespace's interfaces as "index:name", space-separated, by index. */
  async interfaceIndexes(): Promise<string> {
    return ((await this.co.request(Buffer.alloc(0), INTERFACES)) as { interfaces: string }).interfaces;
  }

  /** Ends the co-process. */
  close(): void {
    this.co.close();
  }
}
