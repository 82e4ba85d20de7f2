/**
 * Sends netlink batches (netlink-batch.ts) to the kernel. Node cannot open a
 * netlink socket, so a python3 co-process (py-coprocess.ts; Debian's, standard
 * library only) holds a NETLINK_NETFILTER socket inside the engine's
 * namespace and does the socket I/O.
 *
 * Wire format on its stdin: <u32 batch length><u32 acks expected><batch>;
 * on its stdout, one JSON line per batch: {"errors": [[seq, errno, text], ...]}.
 */
import { PY_COPROCESS_IO, PyCoprocess, type CoprocessOptions } from './py-coprocess.js';
import type { ElementBatch } from './netlink-batch.js';

export const NETLINK_WRITER_PY = `
import json, os, socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.setsockopt(270, 10, 1)   # NETLINK_CAP_ACK: acks without the request copied back
try:
    s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK: the kernel's error text
except OSError:
    pass
${PY_COPROCESS_IO}
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

  /** Ends the co-process. */
  close(): void {
    this.co.close();
  }
}
