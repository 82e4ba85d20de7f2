/**
 * Drives `vcn tui` through a real pseudo-terminal (node-pty) at 80×24 and
 * reads the screen the way a terminal shows it (@xterm/headless).
 */
import { join } from 'node:path';
import { spawn, type IPty } from 'node-pty';
import xterm from '@xterm/headless';

const VCN_TS = join(import.meta.dirname, '..', '..', '..', 'cli', 'vcn.ts');

export const KEY = { enter: '\r', escape: '\x1b', up: '\x1b[A', down: '\x1b[B', tab: '\t', backspace: '\x7f' } as const;

export interface Tui {
  pty: IPty;
  /** The 24 lines of the screen, right-trimmed. */
  lines(): string[];
  text(): string;
  /** Waits until the screen matches (a regular expression or a substring). */
  waitFor(what: string | RegExp | (() => boolean), timeoutMs?: number): Promise<string>;
  send(keys: string): void;
  /** Sends keys one at a time with a short pause (like a person, and like a 9600-baud line). */
  type(text: string): Promise<void>;
  /** Bytes the application wrote so far. */
  bytes(): number;
  exited(): Promise<number>;
  close(): Promise<void>;
}

export function startTui(args: string[], env: Record<string, string> = {}): Tui {
  const term = new xterm.Terminal({ cols: 80, rows: 24, allowProposedApi: true });
  let written = 0;
  const pty = spawn(process.execPath, ['--import', 'tsx', VCN_TS, 'tui', ...args], {
    name: env.TERM ?? 'vt220',
    cols: 80,
    rows: 24,
    cwd: join(import.meta.dirname, '..', '..', '..'),
    env: { ...process.env, TERM: 'vt220', ...env } as Record<string, string>,
  });
  let exitCode: number | undefined;
  const exitWaiters: ((c: number) => void)[] = [];
  pty.onData((d) => {
    written += Buffer.byteLength(d);
    term.write(d);
  });
  pty.onExit(({ exitCode: c }) => {
    exitCode = c;
    for (const w of exitWaiters) w(c);
  });
  const lines = () => {
    const out: string[] = [];
    const buf = term.buffer.active;
    for (let i = 0; i < 24; i++) out.push(buf.getLine(buf.viewportY + i)?.translateToString(true) ?? '');
    return out;
  };
  const text = () => lines().join('\n');
  const tui: Tui = {
    pty,
    lines,
    text,
    async waitFor(what, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        // xterm parses asynchronously: flush what was written before looking.
        await new Promise<void>((r) => term.write('', r));
        const t = text();
        if (typeof what === 'string' ? t.includes(what) : typeof what === 'function' ? what() : what.test(t)) return t;
        if (exitCode !== undefined) throw new Error(`the TUI exited (${exitCode}) while waiting for ${String(what)}; screen:\n${t}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${String(what)}; screen:\n${t}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    send(keys) {
      pty.write(keys);
    },
    async type(s) {
      for (const ch of s) {
        pty.write(ch);
        await new Promise((r) => setTimeout(r, 15));
      }
    },
    bytes: () => written,
    exited: () => (exitCode !== undefined ? Promise.resolve(exitCode) : new Promise((r) => exitWaiters.push(r))),
    async close() {
      if (exitCode === undefined) {
        pty.kill();
        await Promise.race([tui.exited(), new Promise((r) => setTimeout(r, 5000))]);
      }
      term.dispose();
    },
  };
  return tui;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves the form/list selection to row `index` (from the top) and presses Enter. */
export async function pick(t: Tui, index: number): Promise<void> {
  for (let i = 0; i < 25; i++) t.send(KEY.up);
  for (let i = 0; i < index; i++) t.send(KEY.down);
  await pause(200);
  t.send(KEY.enter);
  await pause(300);
}

/** Edits the text field at `index`: clears what the prompt shows and types `value`. */
export async function field(t: Tui, index: number, value: string, clear = 40): Promise<void> {
  await pick(t, index);
  await t.type(KEY.backspace.repeat(clear));
  await t.type(value);
  t.send(KEY.enter);
  await pause(300);
}
