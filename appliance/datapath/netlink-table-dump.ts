/**
 * A raw netlink dump of one nf_tables table (netdev family): its named
 * objects, sets, the elements of every set, chains and rules, as the kernel
 * describes them. A full apply over netlink copies the skeleton nft built
 * (chains, rules, sets, anonymous sets) from such a dump instead of compiling
 * rule text itself. Node cannot open a netlink socket: a few lines of Python
 * (standard library) do the socket I/O and pass the raw datagrams through;
 * the parsing is here.
 */

/**
 * `dump_table(table, emit)`: calls emit(<u32 length><bytes>) for every
 * received datagram of GETOBJ, GETSET, GETSETELEM of each set, GETCHAIN (all
 * netdev chains: the kernel does not filter chains by table), GETRULE. A
 * table that does not exist dumps nothing (ENOENT); another error raises
 * DumpError. Needs socket and struct. Used by the one-shot dump below and by
 * the netlink writer's co-process (small tables: the scratch table).
 */
export const NETLINK_TABLE_DUMP_FN = `
class DumpError(Exception):
    pass
def dump_table(table, emit):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    try:
        s.bind((0, 0))
        s.setsockopt(socket.SOL_SOCKET, 33, 1 << 22)
        _dump_table(s, table, emit)
    finally:
        s.close()
def _attr(t, v):
    v = v.encode() + b'\\0'
    n = 4 + len(v)
    return struct.pack('=HH', n, t) + v + b'\\0' * (-n % 4)
def _attrs(data, off, end):
    while off + 4 <= end:
        n, t = struct.unpack_from('=HH', data, off)
        if n < 4:
            return
        yield t & 0x3fff, data[off + 4:off + n]
        off += (n + 3) & ~3
def _dump_table(s, table, emit):
    sets = []
    def dump(msgtype, body, seq, collect=False):
        payload = struct.pack('=BBH', 5, 0, 0) + body
        s.send(struct.pack('=IHHII', 16 + len(payload), msgtype, 0x301, seq, 0) + payload)
        while True:
            data = s.recv(1 << 20)
            emit(struct.pack('=I', len(data)) + data)
            off = 0
            while off + 16 <= len(data):
                n, t = struct.unpack_from('=IH', data, off)
                if n < 16:
                    return
                if t == 3:
                    return
                if t == 2:
                    err = struct.unpack_from('=i', data, off + 16)[0]
                    if err and err != -2:
                        raise DumpError('netlink dump %#x of table %s failed: errno %d' % (msgtype, table, -err))
                    return
                if collect:
                    name = tbl = None
                    for at, v in _attrs(data, off + 20, off + n):
                        if at == 1:
                            tbl = v.split(b'\\0')[0].decode()
                        elif at == 2:
                            name = v.split(b'\\0')[0].decode()
                    if tbl == table and name is not None:
                        sets.append(name)
                off += (n + 3) & ~3
    dump(0x0a13, _attr(1, table), 1)
    dump(0x0a0a, _attr(1, table), 2, True)
    seq = 3
    for name in sets:
        dump(0x0a0d, _attr(1, table) + _attr(2, name), seq)
        seq += 1
    dump(0x0a04, b'', seq)
    dump(0x0a07, _attr(1, table), seq + 1)
`;

/** argv: table — writes the framed dump (dump_table above) to stdout; exits 1 with the error on failure. */
export const NETLINK_TABLE_DUMP_PY = `
import socket, struct, sys
${NETLINK_TABLE_DUMP_FN}
out = sys.stdout.buffer
try:
    dump_table(sys.argv[1], out.write)
except DumpError as e:
    sys.stderr.write(str(e) + '\\n')
    sys.exit(1)
out.flush()
`;

export type Attr = [type: number, start: number, end: number];

/** Attributes in buf[start, end): [type without flags, payload start, payload end]. */
export function attrsOf(buf: Buffer, start: number, end: number): Attr[] {
  const list: Attr[] = [];
  let o = start;
  while (o + 4 <= end) {
    const len = buf.readUInt16LE(o);
    if (len < 4) break;
    list.push([buf.readUInt16LE(o + 2) & 0x3fff, o + 4, o + len]);
    o += (len + 3) & ~3;
  }
  return list;
}

export interface DumpedMessage {
  /** nf_tables message type without the subsystem byte (NEWOBJ 18, NEWSET 9, NEWSETELEM 12, NEWCHAIN 3, NEWRULE 6). */
  msg: number;
  /** The buffer holding the message; the attributes are buf[start, end). */
  buf: Buffer;
  start: number;
  end: number;
}

/** The nf_tables messages of a framed dump (NETLINK_TABLE_DUMP_PY output), in order; control messages skipped. */
export function dumpedMessages(out: Buffer): DumpedMessage[] {
  const list: DumpedMessage[] = [];
  let f = 0;
  while (f + 4 <= out.length) {
    const len = out.readUInt32LE(f);
    const end = f + 4 + len;
    let m = f + 4;
    while (m + 16 <= end) {
      const n = out.readUInt32LE(m);
      const type = out.readUInt16LE(m + 4);
      if (n < 16 || m + n > end) break;
      if (type >> 8 === 10) list.push({ msg: type & 0xff, buf: out, start: m + 20, end: m + n });
      m += (n + 3) & ~3;
    }
    f = end;
  }
  return list;
}

/** A string attribute's value (NUL stripped). */
export function strAttr(buf: Buffer, a: Attr | undefined): string | undefined {
  if (!a) return undefined;
  const nul = buf.indexOf(0, a[1]);
  return buf.toString('latin1', a[1], nul < 0 || nul > a[2] ? a[2] : nul);
}
