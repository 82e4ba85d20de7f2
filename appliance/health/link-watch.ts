/**
 * Carrier changes of the engine's interfaces (`ip monitor link` in the
 * engine's namespace). A device leg losing its carrier is the fastest hint
 * that the device is gone: health checking then probes it at once instead of
 * waiting for its next interval. The probe still decides (a flapping link
 * alone fails nothing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** "3: e1@fw0: <NO-CARRIER,BROADCAST,MULTICAST,UP> …" → { ifname: 'e1', down: true } */
export function parseLinkLine(line: string): { ifname: string; down: boolean } | undefined {
  const m = /^(?:Deleted )?\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/.exec(line);
  if (!m) return undefined;
  const flags = m[2].split(',');
  return { ifname: m[1], down: flags.includes('NO-CARRIER') || !flags.includes('LOWER_UP') };
}

export class LinkWatch {
  private child: ChildProcess | undefined;
  private stopped = false;

  constructor(private readonly o: { netns?: string; onDown: (ifname: string) => void; log?: (line: string) => void }) {}

  start(): void {
    if (this.stopped) return;
    const argv = this.o.netns ? ['ip', '-n', this.o.netns, 'monitor', 'link'] : ['ip', 'monitor', 'link'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const l = parseLinkLine(line);
      if (l?.down) this.o.onDown(l.ifname);
    });
    child.on('exit', () => {
      // ip monitor should run as long as the daemon: start it again (after a pause) if it died.
      if (!this.stopped) setTimeout(() => this.start(), 1000).unref();
    });
    child.on('error', (e) => this.o.log?.(`link watch: ${e.message}`));
    this.child = child;
  }

  stop(): void {
    this.stopped = true;
    const c = this.child;
    if (c?.pid && c.exitCode === null) c.kill('SIGTERM');
  }
}
