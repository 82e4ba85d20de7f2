/**
 * NETCONF over a local unix socket (for the TUI and the vcn command, RFC 6242
 * framing without SSH). Whoever can open the socket is trusted as the given
 * local user: the socket is created mode 0600 (root only).
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { NetconfServer } from './server.js';
import type { User } from './users.js';

export interface UnixListener {
  path: string;
  close(): Promise<void>;
}

export function listenUnix(server: NetconfServer, path: string, user: User = { name: 'root', role: 'admin', publicKeys: [] }, client: 'cli' | 'tui' = 'cli'): Promise<UnixListener> {
  rmSync(path, { force: true });
  const srv = createServer((sock) => {
    sock.on('error', (e) => server.log(`unix socket: ${e.message}`));
    server.attach(sock, user, { transport: 'netconf-unix', source: 'local', client });
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => {
      srv.off('error', reject);
      chmodSync(path, 0o600);
      server.log(`listening for NETCONF on ${path}`);
      resolve({
        path,
        close: () =>
          new Promise((r) =>
            srv.close(() => {
              rmSync(path, { force: true });
              r();
            }),
          ),
      });
    });
  });
}
