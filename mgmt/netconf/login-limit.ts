/**
 * Failed-login rate limiting per source address: more than max-failures
 * within window blocks the source for block-time (the limits come from the
 * running configuration on each call, so a commit changes them at once).
 * Memory is bounded: old entries are dropped, and at most `maxSources`
 * addresses are tracked (the oldest is forgotten first).
 */
import type { LoginLimits } from './access.js';

interface Entry {
  /** Times of recent failures (ms), oldest first. */
  failures: number[];
  blockedUntil: number;
}

export class LoginLimiter {
  private readonly sources = new Map<string, Entry>();

  constructor(
    private readonly limits: () => LoginLimits,
    private readonly now: () => number = Date.now,
    private readonly maxSources = 10_000,
  ) {}

  /** Until when the source is blocked (ms since the epoch), or undefined. */
  blockedUntil(ip: string): number | undefined {
    const e = this.sources.get(ip);
    if (!e) return undefined;
    if (e.blockedUntil > this.now()) return e.blockedUntil;
    if (e.blockedUntil) {
      this.sources.delete(ip); // the block is over: start counting afresh
    }
    return undefined;
  }

  /** Records a failed login; says how many failures are in the window and whether the source is now blocked. */
  fail(ip: string): { failures: number; blockedUntil?: number } {
    const { maxFailures, windowMs, blockMs } = this.limits();
    const t = this.now();
    let e = this.sources.get(ip);
    if (e) this.sources.delete(ip); // re-insert: the map's order is the age order
    e ??= { failures: [], blockedUntil: 0 };
    e.failures = e.failures.filter((f) => f > t - windowMs);
    e.failures.push(t);
    if (e.failures.length >= maxFailures && e.blockedUntil <= t) e.blockedUntil = t + blockMs;
    this.sources.set(ip, e);
    while (this.sources.size > this.maxSources) this.sources.delete(this.sources.keys().next().value!);
    return { failures: e.failures.length, blockedUntil: e.blockedUntil > t ? e.blockedUntil : undefined };
  }

  /** A successful login clears the source's failures. */
  succeed(ip: string): void {
    const e = this.sources.get(ip);
    if (e && e.blockedUntil <= this.now()) this.sources.delete(ip);
  }
}
