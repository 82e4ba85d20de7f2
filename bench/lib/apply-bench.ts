/** Runs scripts/bench-apply.ts (another engineer's apply-time benchmark) as a child, output passed through. */
import { spawn, type ChildProcess } from 'node:child_process';

/** Resolves with the child's exit code; `onStart` gets the child so that a signal handler can kill it by PID. */
export function runApplyBench(script: string, timeoutMs: number, onStart: (c: ChildProcess) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    // The same node flags as ours (--import tsx, --expose-gc …).
    const child = spawn(process.execPath, [...process.execArgv, script], { stdio: ['ignore', 'inherit', 'inherit'] });
    onStart(child);
    const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
