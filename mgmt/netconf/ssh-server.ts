/**
 * NETCONF over SSH (RFC 6242): an ssh2 server whose `netconf` subsystem
 * becomes a session. Users, roles, allowed source prefixes and login limits
 * come from the running configuration (access.ts); the host key is generated
 * at first start and kept in the store. Every refused source and failed login
 * is a log line and an event in the store; a source that fails max-failures
 * times within the window is refused for block-time.
 */
import { createServer, type AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { NetconfServer } from './server.js';
import { hostKey, type User } from './users.js';

/** Open SSH connections at most (authenticated or not); more are turned away at once. */
const MAX_CONNECTIONS = 64;
/** A connection that has not authenticated within this time is closed. */
const AUTH_TIMEOUT_MS = 30_000;

export interface SshListenOptions {
  host?: string;
  port?: number;
  /** Source prefixes allowed to connect (CIDR) while the configuration names none; all when absent. */
  allow?: string[];
}

export interface SshListener {
  port: number;
  close(): Promise<void>;
}

export function listenSsh(server: NetconfServer, o: SshListenOptions = {}): Promise<SshListener> {
  const access = server.access;
  if (o.allow) access.setFallbackAllow(o.allow);
  const limiter = access.limiter;
  /** Sources whose refusal while blocked was already logged (one line per block, not per attempt). */
  const quietUntil = new Map<string, number>();
  /** Sockets not yet authenticated, by remote address and port, with the timer that ends them. */
  const pending = new Map<string, NodeJS.Timeout>();
  const ssh = new ssh2.Server({ hostKeys: [hostKey(server.store)] }, (client, info) => {
    const ip = info.ip.replace(/^::ffff:/, '');
    const authTimer = pending.get(`${info.ip}:${info.port}`);
    client.on('error', (e) => server.log(`ssh ${ip}: ${e.message}`));
    if (!access.allowed(ip)) {
      server.log(`ssh: refused ${ip}: not in the management prefixes ${access.prefixes().join(', ')}`);
      server.store.event('login-refused', ip, { reason: 'source not allowed', prefixes: access.prefixes() });
      client.end();
      return;
    }
    const blocked = limiter.blockedUntil(ip);
    if (blocked) {
      if ((quietUntil.get(ip) ?? 0) < blocked) {
        quietUntil.set(ip, blocked);
        if (quietUntil.size > 10_000) quietUntil.delete(quietUntil.keys().next().value!);
        server.log(`ssh: refused ${ip}: blocked after failed logins until ${new Date(blocked).toISOString()}`);
      }
      client.end();
      return;
    }
    let user: User | undefined;
    client.on('authentication', (ctx) => {
      const until = limiter.blockedUntil(ip);
      if (until) return ctx.reject([], false);
      const failed = (why: string) => {
        const r = limiter.fail(ip);
        server.log(`ssh: failed ${ctx.method} login for '${ctx.username}' from ${ip} (${why}; ${r.failures} in the window)`);
        server.store.event('login-failed', ip, { user: ctx.username, method: ctx.method, reason: why });
        if (r.blockedUntil) {
          const lim = access.limits();
          server.log(`ssh: ${ip} blocked until ${new Date(r.blockedUntil).toISOString()} after ${r.failures} failed logins within ${lim.windowMs / 1000} s`);
          server.store.event('login-blocked', ip, { failures: r.failures, until: new Date(r.blockedUntil).toISOString() });
          quietUntil.set(ip, r.blockedUntil);
        }
        // A short delay makes guessing slower without holding the event loop.
        setTimeout(() => ctx.reject(['password', 'publickey']), 200 * Math.min(r.failures, 10)).unref();
      };
      if (ctx.method === 'password') {
        const pw = ctx.password;
        access.checkPassword(ctx.username, pw).then(
          (u) => {
            if (!u) return failed('wrong user or password');
            limiter.succeed(ip);
            user = u;
            ctx.accept();
          },
          (e: unknown) => {
            server.log(`ssh: password check failed: ${(e as Error).message}`);
            ctx.reject(['password', 'publickey']);
          },
        );
        return;
      }
      if (ctx.method === 'publickey') {
        const found = access.keyFor(ctx.username, ctx.key.algo, ctx.key.data);
        // An unknown key offered without a signature is how clients ask "would this key do?": not a failure.
        if (!found) return ctx.signature ? failed('key not authorized') : ctx.reject(['password', 'publickey']);
        if (!ctx.signature) return ctx.accept();
        if (!ctx.blob || found.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return failed('bad signature');
        limiter.succeed(ip);
        user = found.user;
        return ctx.accept();
      }
      ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      clearTimeout(authTimer);
      client.on('session', (accept) => {
        const session = accept();
        session.on('subsystem', (acceptSub, rejectSub, subInfo) => {
          if (subInfo.name !== 'netconf' || !user) return rejectSub();
          const channel = acceptSub();
          server.attach(channel, user, { transport: 'netconf-ssh', source: ip, client: 'netconf' });
        });
      });
    });
  });
  ssh.on('error', (e: Error) => server.log(`ssh server: ${e.message}`));
  // Our own TCP listener in front of ssh2's: it bounds the open connections (ssh2 would see a
  // silent one only after its banner) and ends any that has not authenticated in time.
  const tcp = createServer((socket) => {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const timer = setTimeout(() => {
      server.log(`ssh: ${socket.remoteAddress} did not authenticate within ${AUTH_TIMEOUT_MS / 1000} s; closing`);
      socket.destroy();
    }, AUTH_TIMEOUT_MS);
    timer.unref();
    pending.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      pending.delete(key);
    });
    socket.on('error', () => undefined);
    ssh.injectSocket(socket);
  });
  tcp.maxConnections = MAX_CONNECTIONS;
  tcp.on('drop', (d?: { remoteAddress?: string }) => server.log(`ssh: refused ${d?.remoteAddress ?? 'a client'}: ${MAX_CONNECTIONS} connections are open already`));
  tcp.on('error', (e: Error) => server.log(`ssh listener: ${e.message}`));
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(o.port ?? 830, o.host ?? '0.0.0.0', () => {
      tcp.off('error', reject);
      const port = (tcp.address() as AddressInfo).port;
      server.log(`listening for NETCONF over SSH on ${o.host ?? '0.0.0.0'}:${port}`);
      // Stops accepting at once; connections already open (sessions) are not waited for.
      resolve({ port, close: async () => void tcp.close() });
    });
  });
}
