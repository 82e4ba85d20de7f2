/** Starts the NETCONF server and its listeners for the daemon (the one hook daemon.ts calls). */
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { Northbound } from '../northbound/northbound.js';
import type { Store } from '../store/store.js';
import { NetconfServer } from './server.js';
import { followSsh, type SshFollower } from './ssh-follow.js';
import { listenUnix, type UnixListener } from './unix-server.js';

export interface NetconfOptions {
  /**
   * SSH listener: address, and a port that overrides the configured one (0: an ephemeral one);
   * none when absent. Otherwise system/management/netconf (enabled, port 830) decides, commit by commit.
   */
  ssh?: { port?: number; host?: string; allow?: string[] };
  /** Unix socket path for local clients. */
  unix?: string;
  /**
   * At first start (no bootstrap user yet), create the bootstrap user `admin` with this password.
   * Bootstrap users log on only while the running configuration names no user (users.ts).
   */
  adminPassword?: string;
  maxMessage?: number;
}

export interface NetconfService {
  server: NetconfServer;
  ssh?: SshFollower;
  unix?: UnixListener;
  stop(): Promise<void>;
}

export async function startNetconf(deps: { northbound: Northbound; store: Store; datapath?: Datapath; netns?: string; log: (l: string) => void }, o: NetconfOptions): Promise<NetconfService> {
  const server = new NetconfServer({ ...deps, maxMessage: o.maxMessage });
  if (o.adminPassword !== undefined && server.users.count() === 0) server.users.set({ name: 'admin', role: 'admin', password: o.adminPassword });
  const ssh = o.ssh ? await followSsh(server, o.ssh) : undefined;
  let unix: UnixListener | undefined;
  try {
    unix = o.unix ? await listenUnix(server, o.unix) : undefined;
  } catch (e) {
    await ssh?.close();
    throw e;
  }
  return {
    server,
    ssh,
    unix,
    stop: async () => {
      server.close();
      await Promise.all([ssh?.close(), unix?.close()]);
    },
  };
}
