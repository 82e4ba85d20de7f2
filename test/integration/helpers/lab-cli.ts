/** Runs `cli/lab/main.ts` in a child process (for the crash test). */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LabDescription } from '../../../cli/lab/index.js';

const MAIN = fileURLToPath(new URL('../../../cli/lab/main.ts', import.meta.url));

export interface LabChild {
  child: ChildProcess;
  pid: number;
  description: LabDescription;
}

/**
 * Starts `main.ts up` in one node process (`--import tsx`, not the tsx CLI,
 * which would put a wrapper process between us and the lab's owner) and
 * resolves with its description once the lab is up.
 */
export function startLabChild(args: string[], timeoutMs = 30_000): Promise<LabChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lab child not up after ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl < 0 || child.pid === undefined) return;
      clearTimeout(timer);
      resolve({ child, pid: child.pid, description: JSON.parse(out.slice(0, nl)) as LabDescription });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`lab child exited (${signal ?? code}) before it was up: ${err}`));
    });
  });
}
