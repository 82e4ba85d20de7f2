/**
 * NETCONF over SSH (RFC 6242): an ssh2 server whose `netconf` subsystem
 * becomes a session. Password and public-key users come from the store; the
 * host key is generated at first start and kept there. Management access can
 * be limited to source prefixes; failed logins are logged and slowed down per
 * source address.
 */
import { BlockList, isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { NetconfServer } from './server.js';
import { hostKey, type User } from './users.js';

export interface SshListenOptions {
  host?: string;
  port?: number;
  /** Source prefixes allowed to connect (CIDR); all when absent. */
  allow?: string[];
  /** Failed logins per source within a minute before further attempts are refused (default 10). */
  maxFailures?: number;
}

export interface SshListener {
  port: number;
  close(): Promise<void>;
}

function blockList(prefixes: string[]): BlockList {
  const b = new BlockList();
  for (const p of prefixes) {
    const [addr, len] = p.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    b.addSubnet(addr, Number(len ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return b;
}

export function listenSsh(server: NetconfServer, o: SshListenOptions = {}): Promise<SshListener> {
  const allow = o.allow ? blockList(o.allow) : undefined;
  const maxFailures = o.maxFailures ?? 10;
  const failures = new Map<string, { n: number; since: number }>();
  const ssh = new ssh2.Server({ hostKeys: [hostKey(server.store)] }, (client, info) => {
    const ip = info.ip.replace(/^::ffff:/, '');
    client.on('error', (e) => server.log(`ssh ${ip}: ${e.message}`));
    if (allow && !allow.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) {
      server.log(`ssh: refused ${ip}: not in the management prefixes`);
      client.end();
      return;
    }
    let user: User | undefined;
    client.on('authentication', (ctx) => {
      const f = failures.get(ip);
      if (f && Date.now() - f.since > 60_000) failures.delete(ip);
      if ((failures.get(ip)?.n ?? 0) >= maxFailures) {
        server.log(`ssh: ${ip} is rate-limited after ${maxFailures} failed logins`);
        return ctx.reject();
      }
      const failed = () => {
        const cur = failures.get(ip) ?? { n: 0, since: Date.now() };
        cur.n++;
        failures.set(ip, cur);
        server.log(`ssh: failed ${ctx.method} login for '${ctx.username}' from ${ip}`);
        // A short delay makes guessing slower without holding the event loop.
        setTimeout(() => ctx.reject(['password', 'publickey']), 200 * Math.min(cur.n, 10)).unref();
      };
      if (ctx.method === 'password') {
        const u = server.users.checkPassword(ctx.username, ctx.password);
        if (!u) return failed();
        user = u;
        return ctx.accept();
      }
      if (ctx.method === 'publickey') {
        const u = server.users.get(ctx.username);
        const key = u?.publicKeys
          .map((k) => ssh2.utils.parseKey(k))
          .find((k) => !(k instanceof Error) && k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
        if (!u || !key || key instanceof Error) return failed();
        if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do
        if (!ctx.blob || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return failed();
        user = u;
        return ctx.accept();
      }
      ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
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
  return new Promise((resolve, reject) => {
    ssh.once('error', reject);
    ssh.listen(o.port ?? 830, o.host ?? '0.0.0.0', () => {
      ssh.off('error', reject);
      const port = (ssh.address() as AddressInfo).port;
      server.log(`listening for NETCONF over SSH on ${o.host ?? '0.0.0.0'}:${port}`);
      resolve({ port, close: () => new Promise((r) => ssh.close(() => r())) });
    });
  });
}
