/**
 * Background compaction of the data plane: a commit adds its new rows to
 * overflow maps (a second lookup per pass for their packets) because adding
 * them to the direct maps would make the kernel re-validate every jump of the
 * table in the commit's transaction (appliance/datapath/overflow.ts). Between
 * commits, this moves them into the direct maps, one transaction at a time,
 * queued behind commits like any other northbound operation.
 */
import type { Northbound } from './northbound.js';

export class OverflowCompactor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly northbound: Pick<Northbound, 'compact'>,
    private readonly opts: { everyMs: number; log?: (line: string) => void },
  ) {}

  start(): void {
    if (this.timer || this.opts.everyMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.opts.everyMs);
    this.timer.unref();
  }

  /** One compaction now (what the timer runs); resolves when it is done. */
  tick(): Promise<void> {
    this.running ??= this.northbound
      .compact()
      .then((r) => {
        if (r) this.opts.log?.(`compaction: ${r.stats?.elementsAdded ?? 0} rows moved into the direct maps in ${(r.checkMs + r.applyMs).toFixed(0)} ms (${r.carried} counts carried)`);
      })
      .catch((e: Error) => this.opts.log?.(`compaction failed (rows stay in the overflow maps): ${e.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
