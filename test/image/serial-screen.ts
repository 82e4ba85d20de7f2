/**
 * The guest's serial console as a terminal shows it: every byte QEMU's serial
 * port prints goes into an 80×24 @xterm/headless terminal, so the test reads
 * the TUI's screen (blessed redraws only the cells that change, so the raw
 * byte stream is no screen) and types into it the way an operator would.
 */
import xterm from '@xterm/headless';
import type { Vm } from './qemu-vm.js';

export const KEY = { enter: '\r', up: '\x1b[A', down: '\x1b[B', backspace: '\x7f' } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SerialScreen {
  private readonly term = new xterm.Terminal({ cols: 80, rows: 24, allowProposedApi: true });

  constructor(private readonly vm: Vm) {
    vm.onData.push((d) => this.term.write(d));
  }

  /** The 24 rows on screen now. */
  async text(): Promise<string> {
    // xterm parses asynchronously: flush what was written before reading.
    await new Promise<void>((r) => this.term.write('', r));
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < 24; i++) out.push(buf.getLine(buf.viewportY + i)?.translateToString(true) ?? '');
    return out.join('\n');
  }

  async waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.text();
      if (re.test(t)) return t;
      if (Date.now() > end) throw new Error(`the serial console did not show ${re} within ${timeoutMs / 1000} s; screen:\n${t}`);
      await sleep(250);
    }
  }

  /** Keys one at a time with a pause: a 115200-baud line into an emulated guest. */
  async type(keys: string[] | string, gapMs = 60): Promise<void> {
    for (const k of typeof keys === 'string' ? [...keys] : keys) {
      this.vm.type(k);
      await sleep(gapMs);
    }
  }

  /**
   * Form row `index` (counted from the top) selected and Enter pressed; waits
   * until the screen shows `after` (the prompt, or what the row leads to).
   */
  async pick(index: number, after: RegExp, timeoutMs: number): Promise<string> {
    await this.type([...Array<string>(14).fill(KEY.up), ...Array<string>(index).fill(KEY.down)]);
    await sleep(500);
    await this.type(KEY.enter);
    return this.waitFor(after, timeoutMs);
  }

  /** A secret or text row of the form set to `value` through its prompt (`label: ` on the message line). */
  async field(index: number, label: string, value: string, timeoutMs: number): Promise<void> {
    const prompt = new RegExp(`^${label}: `, 'm');
    await this.pick(index, prompt, timeoutMs);
    await this.type([...Array<string>(30).fill(KEY.backspace), ...value], 40);
    await this.type(KEY.enter);
    // The prompt line is cleared once the value is taken.
    const end = Date.now() + timeoutMs;
    while (prompt.test(await this.text())) {
      if (Date.now() > end) throw new Error(`the ${label} prompt stayed open; screen:\n${await this.text()}`);
      await sleep(250);
    }
  }
}
