/**
 * Runs a program to completion with a hard timeout (SIGKILL), collecting its
 * output. Rejects only when the program cannot be started; a non-zero exit is
 * the caller's to judge.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** `onStdout`: standard output goes there as it arrives (not collected: `stdout` is empty), for outputs too big to hold. */
export function runProcess(argv: string[], opts: { input?: string | Buffer; timeoutMs: number; onStdout?: (chunk: Buffer) => void }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const onStdout = opts.onStdout;
    child.stdout.on('data', onStdout ? (b: Buffer) => onStdout(b) : (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A program that exits before reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(opts.input ?? '');
  });
}
