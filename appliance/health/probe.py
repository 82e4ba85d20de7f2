#!/usr/bin/python3
"""
Health probes at layer 2, run inside the engine's network namespace as a
long-lived co-process of the daemon (appliance/health/prober.ts).

Why raw frames: the engine's namespace has no IP addresses and its netdev
ingress hooks drop whatever they do not steer, so a kernel TCP socket there
could neither send nor receive. An AF_PACKET socket sends a hand-built frame
out of one engine interface and sees frames arriving on another BEFORE the
netdev ingress hook (packet taps run first), so probes work whatever the
ruleset does. Python's socket.AF_PACKET needs no dependency (Debian python3).

Protocol: one JSON object per line on stdin, one answer per line on stdout.
  {"id":1,"op":"tcp","ifname":"e6","srcMac":..,"dstMac":..,"srcIp":..,"dstIp":..,"port":80,"timeoutMs":300}
      half-open handshake: SYN out, SYN-ACK back (then RST) -> ok; RST back -> refused
  {"id":2,"op":"heartbeat","out":"e1","in":"e2","srcMac":..,"dstMac":..,"timeoutMs":300}
      a frame (EtherType 0x88b5, a nonce) sent out of `out` must arrive on `in`
  {"id":3,"op":"icmp","ifname":..,"srcMac":..,"dstMac":..,"srcIp":..,"dstIp":..,"timeoutMs":300}
Answer: {"id":1,"ok":true,"us":412} or {"id":1,"ok":false,"error":"timeout"}.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_HB = 0x88B5
PACKET_OUTGOING = 4

sockets = {}  # ifname -> AF_PACKET socket (receives everything, sends frames)
pending = []  # dicts: match(ifname, frame) -> result or None, deadline, id


def sock(ifname):
    s = sockets.get(ifname)
    if s is None:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((ifname, 0))
        s.setblocking(False)
        sockets[ifname] = s
    return s


def mac(text):
    return bytes(int(x, 16) for x in text.split(':'))


def csum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), random.randint(0, 65535), 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(src, dst, sport, dport, seq, ack, flags):
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(seg))
    return seg[:16] + struct.pack('!H', csum(pseudo + seg)) + seg[18:]


def eth(dst, src, etype, payload):
    frame = mac(dst) + mac(src) + struct.pack('!H', etype) + payload
    return frame + b'\0' * max(0, 60 - len(frame))


def answer(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def start(req):
    op = req['op']
    now = time.monotonic()
    deadline = now + req.get('timeoutMs', 300) / 1000.0
    if op == 'tcp':
        sport = random.randint(20000, 60000)
        seq = random.randint(0, 2**32 - 1)
        src, dst, port = req['srcIp'], req['dstIp'], int(req['port'])
        frame = eth(req['dstMac'], req['srcMac'], ETH_P_IP, ipv4(src, dst, 6, tcp(src, dst, sport, port, seq, 0, 0x02)))

        def match(ifname, f):
            if ifname != req['ifname'] or len(f) < 54 or struct.unpack('!H', f[12:14])[0] != ETH_P_IP:
                return None
            ihl = (f[14] & 0x0F) * 4
            if f[23] != 6 or f[26:30] != socket.inet_aton(dst):
                return None
            t = 14 + ihl
            sp, dp, rseq, rack, _, flags = struct.unpack('!HHIIBB', f[t:t + 14])
            if sp != port or dp != sport:
                return None
            if flags & 0x12 == 0x12:
                # Half-open: reset the server's half of the connection.
                rst = eth(req['dstMac'], req['srcMac'], ETH_P_IP, ipv4(src, dst, 6, tcp(src, dst, sport, port, rack, 0, 0x04)))
                sock(req['ifname']).send(rst)
                return {'ok': True}
            if flags & 0x04:
                return {'ok': False, 'error': 'refused (RST)'}
            return None
        out = req['ifname']
    elif op == 'heartbeat':
        nonce = os.urandom(8)
        frame = eth(req['dstMac'], req['srcMac'], ETH_P_HB, b'VCNHB' + nonce)

        def match(ifname, f):
            if ifname == req['in'] and len(f) >= 27 and f[12:14] == struct.pack('!H', ETH_P_HB) and f[14:27] == b'VCNHB' + nonce:
                return {'ok': True}
            return None
        out = req['out']
        sock(req['in'])
    elif op == 'icmp':
        ident, seqn = random.randint(0, 65535), random.randint(0, 65535)
        body = struct.pack('!BBHHH', 8, 0, 0, ident, seqn) + b'vcn-health'
        body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
        frame = eth(req['dstMac'], req['srcMac'], ETH_P_IP, ipv4(req['srcIp'], req['dstIp'], 1, body))

        def match(ifname, f):
            if ifname != req['ifname'] or len(f) < 42 or struct.unpack('!H', f[12:14])[0] != ETH_P_IP or f[23] != 1:
                return None
            t = 14 + (f[14] & 0x0F) * 4
            if f[t] == 0 and struct.unpack('!HH', f[t + 4:t + 8]) == (ident, seqn):
                return {'ok': True}
            return None
        out = req['ifname']
    else:
        answer({'id': req.get('id'), 'ok': False, 'error': 'unknown op %s' % op})
        return
    t0 = time.monotonic()
    listen = req['in'] if op == 'heartbeat' else req['ifname']
    pending.append({'id': req['id'], 'match': match, 'deadline': deadline, 't0': t0, 'ifs': {out, listen}})
    sock(out).send(frame)


def prune():
    # A packet socket copies every frame of its interface: keep it open only while a probe waits
    # on it, so the data plane's traffic costs the prober nothing between probes.
    needed = set().union(*[p['ifs'] for p in pending]) if pending else set()
    for name in [n for n in sockets if n not in needed]:
        sockets.pop(name).close()


def main():
    buf = b''
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    while True:
        now = time.monotonic()
        wait = min([p['deadline'] for p in pending], default=now + 1.0) - now
        readable, _, _ = select.select([stdin] + list(sockets.values()), [], [], max(0.0, wait))
        # Replies already queued are matched before deadlines are checked: a late wake-up
        # (a loaded machine) must not turn an answered probe into a timeout.
        readable.sort(key=lambda r: r == stdin)
        for r in readable:
            if r == stdin:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    return
                buf += chunk
                while b'\n' in buf:
                    line, buf = buf.split(b'\n', 1)
                    if not line.strip():
                        continue
                    try:
                        start(json.loads(line))
                    except Exception as e:  # a bad request must not stop the prober
                        answer({'id': None, 'ok': False, 'error': str(e)})
                continue
            ifname = next(n for n, s in sockets.items() if s is r)
            while True:
                try:
                    frame, addr = r.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                for p in list(pending):
                    res = p['match'](ifname, frame)
                    if res is not None:
                        pending.remove(p)
                        res['id'] = p['id']
                        res['us'] = int((time.monotonic() - p['t0']) * 1e6)
                        answer(res)
                        break
        now = time.monotonic()
        for p in [p for p in pending if p['deadline'] <= now]:
            pending.remove(p)
            answer({'id': p['id'], 'ok': False, 'error': 'timeout'})
        prune()


if __name__ == '__main__':
    main()
