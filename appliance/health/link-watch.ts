/**
 * Carrier changes of the engine's interfaces (`ip monitor link` in the
 * engine's namespace). A device leg losing its carrier is the fastest hint
 * that the device is gone: health checking then probes it at once instead of
 * waiting for its next interval. The probe still decides (a flapping link
 * alone fails nothing).
 *
 * An interface deleted and made again (a replugged USB NIC, a VLAN or veth
 * set up again) is reported too: nft resolved `fwd to`/`dup to` names to
 * interface indexes when the rules were loaded, so until the ruleset is loaded
 * again the engine would forward into an index that no longer exists.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LinkLine {
  ifname: string;
  index: number;
  down: boolean;
  /** An RTM_DELLINK ("Deleted …"): the interface is gone. */
  deleted: boolean;
}

/** "3: e1@fw0: <NO-CARRIER,BROADCAST,MULTICAST,UP> …" → { ifname: 'e1', index: 3, down: true, deleted: false } */
export function parseLinkLine(line: string): LinkLine | undefined {
  const m = /^(Deleted )?(\d+): ([^:@\s]+)(?:@\S+)?: <([^>]*)>/.exec(line);
  if (!m) return undefined;
  const flags = m[4].split(',');
  return { ifname: m[3], index: Number(m[2]), down: flags.includes('NO-CARRIER') || !flags.includes('LOWER_UP'), deleted: m[1] !== undefined };
}

/** Interfaces whose name now stands for another index (deleted and made again, or another renamed to it), from a stream of link lines. */
export class RecreatedLinks {
  private readonly index = new Map<string, number>();
  private readonly gone = new Set<string>();

  /** The interface's name when this line shows it under a new index. */
  see(l: LinkLine): string | undefined {
    if (l.deleted) {
      this.gone.add(l.ifname);
      this.index.delete(l.ifname);
      return undefined;
    }
    const before = this.index.get(l.ifname);
    this.index.set(l.ifname, l.index);
    const back = this.gone.delete(l.ifname) || (before !== undefined && before !== l.index);
    return back ? l.ifname : undefined;
  }
}

export class LinkWatch {
  private child: ChildProcess | undefined;
  private stopped = false;

  constructor(private readonly o: { netns?: string; onDown: (ifname: string) => void; onRecreated?: (ifname: string) => void; log?: (line: string) => void }) {}

  start(): void {
    if (this.stopped) return;
    const argv = this.o.netns ? ['ip', '-n', this.o.netns, 'monitor', 'link'] : ['ip', 'monitor', 'link'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    const recreated = new RecreatedLinks();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const l = parseLinkLine(line);
      if (!l) return;
      if (l.down) this.o.onDown(l.ifname);
      const back = recreated.see(l);
      if (back) this.o.onRecreated?.(back);
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
