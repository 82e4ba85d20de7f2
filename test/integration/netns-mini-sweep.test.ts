/**
 * A test run that is SIGKILLed before its afterAll leaves namespaces behind;
 * the next MiniNet (in any process) must tear them down.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sweepDeadRuns } from './helpers/netns-mini.js';

const LEAKER = fileURLToPath(new URL('./fixtures/mini-leaker.ts', import.meta.url));

describe('MiniNet crash leftovers', () => {
  it('a killed run’s namespace is removed by the next sweep, a live run’s is not', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', LEAKER], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const ns = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.on('exit', (code) => reject(new Error(`leaker exited ${code}`)));
      });
      expect(existsSync(`/run/netns/${ns}`)).toBe(true);
      // The owner is alive: a sweep must leave its namespace alone.
      expect(await sweepDeadRuns()).not.toContain(ns);
      expect(existsSync(`/run/netns/${ns}`)).toBe(true);

      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      expect(existsSync(`/run/netns/${ns}`)).toBe(true);
      expect(await sweepDeadRuns()).toContain(ns);
      expect(existsSync(`/run/netns/${ns}`)).toBe(false);
      expect(existsSync(`/run/vcn-mini/${ns.slice(2, 8)}.json`)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await sweepDeadRuns();
    }
  }, 60_000);
});
