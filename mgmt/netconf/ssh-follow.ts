/**
 * The SSH listener follows the running configuration: system/management/
 * netconf `enabled` opens or closes it and `port` moves it (a port given on
 * the command line wins over the configured one, for tests and development).
 * The running commit is looked at every `pollMs`, so a commit from any client,
 * a rollback or a confirmed-commit revert takes effect within that time.
 * Sessions already open stay open when the listener closes or moves.
 */
import type { NetconfServer } from './server.js';
import { listenSsh, type SshListenOptions, type SshListener } from './ssh-server.js';

export interface SshFollower extends SshListener {
  /** The listening port, or 0 while NETCONF over SSH is disabled (or could not listen). */
  readonly port: number;
  /** Resolves once the listener matches the running configuration (for tests). */
  settled(): Promise<void>;
}

export async function followSsh(server: NetconfServer, o: SshListenOptions, pollMs = 1000): Promise<SshFollower> {
  let current: SshListener | undefined;
  let currentKey = '';
  let commit: number | null | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const want = () => {
    const nc = server.access.netconfService();
    return { enabled: nc.enabled, port: o.port ?? nc.port };
  };
  const reconcile = () =>
    (chain = chain.then(async () => {
      if (stopped) return;
      commit = server.store.runningId();
      const w = want();
      const key = w.enabled ? `${o.host ?? '0.0.0.0'}:${w.port}` : 'off';
      if (key === currentKey) return;
      if (current) {
        await current.close();
        server.log(`NETCONF over SSH on port ${current.port} closed (${w.enabled ? `moving to ${w.port}` : 'disabled by the configuration'})`);
        current = undefined;
      }
      currentKey = key;
      if (!w.enabled) return;
      try {
        current = await listenSsh(server, { ...o, port: w.port });
      } catch (e) {
        // The configuration stays as committed; the next commit that changes it tries again.
        server.log(`NETCONF over SSH cannot listen on port ${w.port}: ${(e as Error).message}`);
        server.store.event('netconf-listen-failed', String(w.port), { error: (e as Error).message });
      }
    }));

  await reconcile();
  const timer = setInterval(() => {
    if (server.store.runningId() !== commit) void reconcile();
  }, pollMs);
  timer.unref();
  return {
    get port() {
      return current?.port ?? 0;
    },
    settled: () => chain,
    close: async () => {
      stopped = true;
      clearInterval(timer);
      await chain;
      await current?.close();
      current = undefined;
    },
  };
}
