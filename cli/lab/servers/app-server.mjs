// Lab application server: HTTP on every TCP port, echo on every UDP port, and a
// JSON-lines record of what it received. Plain .mjs with no dependencies so it
// starts fast under `ip netns exec NS node app-server.mjs '<json config>'`.
// It never resolves names (a DNS lookup in a namespace with a default route
// would hang until its timeout).
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { appendFileSync } from 'node:fs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const { name, tcpPorts = [], udpPorts = [], udpAddrs = [], log } = cfg;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const MAX_BYTES = 4 * 1024 ** 3;

const norm = (a) => (a && a.startsWith('::ffff:') ? a.slice(7) : a);
const record = (entry) => {
  if (log) appendFileSync(log, JSON.stringify({ t: Date.now(), server: name, ...entry }) + '\n');
};

function sendBytes(res, n) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  let left = n;
  const pump = () => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function handle(req, res) {
  const local = norm(req.socket.localAddress);
  const remote = norm(req.socket.remoteAddress);
  const lport = req.socket.localPort;
  record({ proto: 'tcp', local, lport, remote, rport: req.socket.remotePort, method: req.method, url: req.url });
  const bytes = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (req.method === 'GET' && bytes) {
    const n = Number(bytes[1]);
    if (n > MAX_BYTES) return void res.writeHead(400).end('too large\n');
    return sendBytes(res, n);
  }
  if (req.method === 'POST' && req.url === '/sink') {
    let received = 0;
    req.on('data', (b) => (received += b.length));
    req.on('end', () => res.end(`server=${name} received=${received}\n`));
    return;
  }
  req.resume();
  res.end(`server=${name} port=${lport} local=${local} remote=${remote}\n`);
}

const listening = [];
for (const port of tcpPorts) {
  const srv = createServer(handle);
  srv.keepAliveTimeout = 1000;
  listening.push(
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ port, host: '::', ipv6Only: false }, resolve);
    }),
  );
}

// One UDP socket per address: replies must leave from the address the client
// sent to (W1 on lo, not the interface's own address), and the record names it.
for (const addr of udpAddrs) {
  for (const port of udpPorts) {
    const sock = createSocket(addr.includes(':') ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    sock.on('message', (msg, rinfo) => {
      record({ proto: 'udp', local: addr, lport: port, remote: rinfo.address, rport: rinfo.port, len: msg.length, data: msg.toString('utf8', 0, 200) });
      const head = Buffer.from(`server=${name} port=${port} local=${addr} remote=${rinfo.address} data=`);
      sock.send(Buffer.concat([head, msg]), rinfo.port, rinfo.address);
    });
    listening.push(
      new Promise((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ port, address: addr }, resolve);
      }),
    );
  }
}

// The lab holds our stdin open; when its owner dies the pipe closes and we go too.
if (cfg.exitWithOwner) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

Promise.all(listening).then(
  () => process.stdout.write(`ready ${name} pid=${process.pid}\n`),
  (e) => {
    process.stderr.write(`app-server ${name}: ${e.message}\n`);
    process.exit(1);
  },
);
