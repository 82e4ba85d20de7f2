"""Test server for the health tests: TCP 80 (accept, answer a line, close) and UDP 9
(on each address given as an argument: echo every datagram and print "R <payload> <monotonic ms>" so the test can measure gaps)."""
import socket
import sys
import threading
import time


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 80))
    s.listen(128)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"hello from " + socket.gethostname().encode() + b"\n")
        finally:
            c.close()


def udp(addr):
    # One socket per service address: a loopback-mode server must answer from the service IP
    # (a socket on 0.0.0.0 would answer from the interface's own address, which the engine drops).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 9))
    while True:
        data, peer = s.recvfrom(2048)
        sys.stdout.write("R %s %.3f\n" % (data.decode(errors="replace").strip(), time.monotonic() * 1000))
        sys.stdout.flush()
        s.sendto(data, peer)


threading.Thread(target=tcp, daemon=True).start()
for a in sys.argv[1:]:
    threading.Thread(target=udp, args=(a,), daemon=True).start()
print("READY", flush=True)
while True:
    time.sleep(3600)
