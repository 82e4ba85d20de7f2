"""Data-plane probes run inside the test's namespaces.

  udp-probe.py echo ADDR PORT SECONDS     answer each datagram with "echo:" + payload
  udp-probe.py send DST PORT PAYLOAD SECONDS   send until a reply comes (prints JSON)
"""
import json
import socket
import sys
import time

mode = sys.argv[1]
if mode == "echo":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[2], int(sys.argv[3])))
    s.settimeout(float(sys.argv[4]))
    try:
        while True:
            data, peer = s.recvfrom(2048)
            print("got %r from %s:%d" % (data, peer[0], peer[1]), flush=True)
            s.sendto(b"echo:" + data, peer)
    except socket.timeout:
        pass
else:
    dst, port, payload, seconds = sys.argv[2], int(sys.argv[3]), sys.argv[4].encode(), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    end = time.time() + seconds
    sent = 0
    while time.time() < end:
        s.sendto(payload, (dst, port))
        sent += 1
        try:
            data, peer = s.recvfrom(2048)
            print(json.dumps({"reply": data.decode(), "from": "%s:%d" % peer, "sent": sent}))
            sys.exit(0)
        except socket.timeout:
            continue
    print(json.dumps({"reply": None, "sent": sent}))
    sys.exit(1)
