/**
 * A compacting collection after big data-plane work. A full apply of 100k
 * services leaves ~200 MB of JS heap pages that the commit (compile, render,
 * diff, encode) used and freed; V8 gives them back only after its memory
 * reducer notices the daemon is idle (~25 s), and a regular collection keeps
 * them because the survivors are spread over them. On an appliance with
 * little RAM that is the difference between ~570 and ~400 MB resident right
 * after the commit (bench/store-rss.ts). Small changes never trigger it: the
 * pause (~0.1–0.3 s at 100k services) is taken once, a second after the last
 * big change, off the commit's reply path.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's gc() without the --expose-gc command-line flag (the image's node has none). */
function exposedGc(): (() => void) | undefined {
  const own = (globalThis as { gc?: () => void }).gc;
  if (own) return own;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (() => void) | undefined;
}

export interface HeapSettleOptions {
  /** Elements changed (a diff) or loaded (a full apply) from which a change counts as big (default 20 000). */
  minElements?: number;
  /** Quiet time after the last big change (ms, default 1000). */
  delayMs?: number;
  log?: (line: string) => void;
}

export class HeapSettle {
  private timer: NodeJS.Timeout | undefined;
  private readonly gc = exposedGc();
  private readonly minElements: number;
  private readonly delayMs: number;
  /** Collections made, for the log and the tests. */
  runs = 0;

  constructor(private readonly o: HeapSettleOptions = {}) {
    this.minElements = o.minElements ?? 20_000;
    this.delayMs = o.delayMs ?? 1000;
  }

  /** Data-plane work of `elements` elements just finished. */
  afterWork(elements: number): void {
    if (elements < this.minElements || !this.gc) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), this.delayMs);
    this.timer.unref();
  }

  private settle(): void {
    this.timer = undefined;
    const t0 = performance.now();
    // A plain full collection frees the dead objects but keeps the pages their survivors sit on; for this one
    // collection V8 evacuates every page (Node 20's gc() ignores the 'last-resort' option that would do it).
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      this.gc?.();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
    this.runs++;
    this.o.log?.(`heap: compacted after a big data-plane change in ${Math.round(performance.now() - t0)} ms`);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
