/**
 * vcn lab: bring the namespace lab up for a demo, or clean up after crashes.
 *
 *   node --import tsx cli/lab/main.ts up [--pretty] [--run-id XXXX] [--net N] [--no-servers] [--no-ids] [--no-offloads]
 *   node --import tsx cli/lab/main.ts cleanup
 *   node --import tsx cli/lab/main.ts demo-config [--run-id XXXX] [--net N]
 *
 * `up` prints the lab's description as JSON on one line (or --pretty), then
 * keeps the lab until SIGINT or SIGTERM and tears it down.
 */
import { Lab } from './lab.js';
import { cleanupStale } from './state.js';
import { demoConfig } from './demo-config.js';
import { planLab, randomRunId } from './topology.js';
import type { LabOptions } from './topology.js';

function parseOptions(args: string[]): LabOptions & { pretty: boolean } {
  const opts: LabOptions & { pretty: boolean } = { pretty: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--pretty') opts.pretty = true;
    else if (a === '--run-id') opts.runId = value();
    else if (a === '--net') opts.net = Number(value());
    else if (a === '--no-servers') opts.servers = false;
    else if (a === '--no-ids') opts.ids = false;
    else if (a === '--no-offloads') opts.offloads = false;
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

async function up(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const held: { lab?: Lab } = {};
  let stopping = false;
  const teardown = (l: Lab): void => {
    l.down().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`lab ${l.plan.runId}: teardown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  // Installed before the lab exists: a signal during bring-up tears it down once it is up.
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`lab: ${why}, tearing down\n`);
    if (held.lab) teardown(held.lab);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  const lab = await Lab.up(opts);
  held.lab = lab;
  if (stopping) return teardown(lab);
  const d = lab.describe();
  process.stdout.write((opts.pretty ? JSON.stringify(d, null, 2) : JSON.stringify(d)) + '\n');
  process.stderr.write(`lab ${lab.plan.runId} up in ${Math.round(lab.timings.up ?? 0)} ms; Ctrl-C tears it down\n`);
  // Keep the process alive even when no child process holds the event loop.
  setInterval(() => undefined, 1 << 30);
}

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  switch (cmd) {
    case 'up':
      return up(args);
    case 'cleanup': {
      const removed = await cleanupStale();
      process.stdout.write(removed.length ? `removed ${removed.join(' ')}\n` : 'nothing stale\n');
      return;
    }
    case 'demo-config': {
      const opts = parseOptions(args);
      process.stdout.write(JSON.stringify(demoConfig(planLab({ ...opts, runId: opts.runId ?? randomRunId() })), null, 2) + '\n');
      return;
    }
    default:
      process.stderr.write('usage: lab up [--pretty] [--run-id XXXX] [--net N] [--no-servers] [--no-ids] [--no-offloads] | cleanup | demo-config\n');
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
