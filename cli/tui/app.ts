/**
 * The console application: one blessed screen laid out for an 80×24
 * VT100-class terminal — a header line (host, screen, running commit, the
 * countdown of a pending confirmed commit), the screen's body, a message
 * line (daemon errors with their code) and a help line. Keyboard only; no
 * borders or colours (attributes only), and blessed's smart CSR redraws only
 * the cells that changed, which matters at 9600 baud.
 */
import blessed from 'blessed';
import type { NetconfClient, EngineState } from '../netconf-client/client.js';
import { NetconfConnectError, NetconfRpcError } from '../netconf-client/errors.js';

export const WIDTH = 80;
export const BODY_TOP = 1;
export const BODY_HEIGHT = 21;

export interface Screen {
  /** Shown in the header. */
  title: string;
  /** Screen keys for the help line, e.g. "Enter:open p:new". */
  help: string;
  /** Builds the screen's widgets inside app.body. */
  show(): Promise<void>;
  /** Called every refresh period while the screen is shown. */
  refresh?(): Promise<void>;
  /** A key the screen handles (not while a prompt reads input); true when handled. */
  key?(name: string): boolean | Promise<boolean>;
  /** Called before the screen is replaced (cancel timers). */
  hide?(): void;
}

export type ScreenName = 'wizard' | 'dashboard' | 'services' | 'devices' | 'interfaces' | 'commit' | 'history' | 'counters';

/** Global navigation keys (shown at the end of every help line). */
export const NAV: Record<string, ScreenName> = { d: 'dashboard', s: 'services', v: 'devices', i: 'interfaces', c: 'commit', h: 'history', n: 'counters', w: 'wizard' };
const NAV_HELP = 'd s v i c h n w q';

export interface AppOptions {
  client: NetconfClient;
  /** Refresh period of live data (ms). */
  refreshMs?: number;
  screens: (app: App) => Record<ScreenName, Screen>;
}

export class App {
  readonly screen: blessed.Widgets.Screen;
  readonly body: blessed.Widgets.BoxElement;
  readonly client: NetconfClient;
  state: EngineState = { servicePorts: [] };
  hostname = '';
  /** Number of differences between running and the candidate. */
  pendingEdits = 0;
  private readonly header: blessed.Widgets.BoxElement;
  private readonly message: blessed.Widgets.BoxElement;
  private readonly helpLine: blessed.Widgets.BoxElement;
  private readonly screens: Record<ScreenName, Screen>;
  private current?: Screen;
  currentName?: ScreenName;
  private prompting = false;
  private timer?: NodeJS.Timeout;
  private clock?: NodeJS.Timeout;
  private refreshing = false;
  private lastRefreshError?: string;
  private exitResolve?: (code: number) => void;

  constructor(o: AppOptions) {
    this.client = o.client;
    this.screen = blessed.screen({
      smartCSR: true,
      terminal: process.env.TERM || 'vt100',
      fullUnicode: false,
      warnings: false,
      autoPadding: false,
      title: 'VCN console',
    });
    const line = (top: number, style: Record<string, unknown> = {}) =>
      blessed.box({ parent: this.screen, top, left: 0, width: WIDTH, height: 1, tags: true, style });
    this.header = line(0, { inverse: true });
    this.body = blessed.box({ parent: this.screen, top: BODY_TOP, left: 0, width: WIDTH, height: BODY_HEIGHT, tags: true });
    this.message = line(22);
    this.helpLine = line(23, { inverse: true });
    this.screens = o.screens(this);
    this.screen.on('keypress', (ch: string, key: blessed.Widgets.Events.IKeyEventArg) => void this.onKey(ch, key));
    this.timer = setInterval(() => void this.refresh(), o.refreshMs ?? 2000);
    this.clock = setInterval(() => this.drawHeader(), 1000);
    o.client.conn.onClose = (reason) => {
      this.error(`CONNECTION_LOST: ${reason}`);
    };
  }

  /** Runs until the user quits; resolves to the exit code. */
  run(first: ScreenName): Promise<number> {
    return new Promise((resolve) => {
      this.exitResolve = resolve;
      void this.go(first);
    });
  }

  quit(code = 0): void {
    clearInterval(this.timer);
    clearInterval(this.clock);
    this.current?.hide?.();
    this.screen.destroy();
    this.exitResolve?.(code);
  }

  async go(name: ScreenName): Promise<void> {
    this.current?.hide?.();
    for (const c of [...this.body.children]) c.destroy();
    this.body.setContent('');
    this.currentName = name;
    this.current = this.screens[name];
    this.info('');
    this.drawHeader();
    this.setHelp(this.current.help);
    try {
      await this.current.show();
    } catch (e) {
      this.error(e);
    }
    await this.refresh();
    this.screen.render();
  }

  private async onKey(ch: string, key: blessed.Widgets.Events.IKeyEventArg): Promise<void> {
    if (this.prompting || this.screen.grabKeys) return;
    const name = key.full === 'return' ? '' : key.full;
    if (!name) return;
    if (name === 'C-c') return this.quit(0);
    try {
      if (this.current?.key && (await this.current.key(name))) return;
    } catch (e) {
      this.error(e);
      return;
    }
    if (name === 'q') return this.quit(0);
    const target = NAV[name];
    if (target && target !== this.currentName) await this.go(target);
  }

  /** Re-reads engine state (for the header) and lets the screen refresh its live data. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      this.state = await this.client.state();
      this.pendingEdits = (await this.client.compare('running', 'candidate')).length;
      if (!this.prompting) await this.current?.refresh?.();
      this.drawHeader();
      this.screen.render();
      this.lastRefreshError = undefined;
    } catch (e) {
      // Shown once per distinct failure: a refresh every second must not flood a 9600-baud line.
      const text = (e as Error).message;
      if (text !== this.lastRefreshError) this.error(e instanceof NetconfConnectError || e instanceof NetconfRpcError ? e : new Error(`refresh failed: ${text}`));
      this.lastRefreshError = text;
    } finally {
      this.refreshing = false;
    }
  }

  /** Seconds until the pending confirmed commit reverts, or undefined. */
  pendingSeconds(): number | undefined {
    const p = this.state.pending;
    if (!p) return undefined;
    return Math.max(0, Math.round((Date.parse(p.deadline) - Date.now()) / 1000));
  }

  private drawHeader(): void {
    const left = ` VCN ${this.hostname || '?'} | ${this.current?.title ?? ''}`;
    const parts: string[] = [];
    if (this.state.runningCommit !== undefined) parts.push(`commit ${this.state.runningCommit}`);
    if (this.pendingEdits) parts.push(`${this.pendingEdits} uncommitted`);
    const s = this.pendingSeconds();
    if (s !== undefined) parts.push(`CONFIRM IN ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);
    const right = `${parts.join(' | ')} `;
    const text = left.length + right.length < WIDTH ? left + ' '.repeat(WIDTH - left.length - right.length) + right : `${left} ${right}`.slice(0, WIDTH);
    if (this.header.getContent() !== text) {
      this.header.setContent(text);
      this.screen.render();
    }
  }

  /** Replaces the screen part of the help line (screens with modes change it). */
  setHelp(help: string): void {
    // The global keys always fit: the screen's part is cut first.
    const nav = `  |  ${NAV_HELP}`;
    this.helpLine.setContent(` ${help}`.slice(0, WIDTH - nav.length - 1) + nav);
  }

  info(text: string): void {
    this.message.setContent(text.slice(0, WIDTH));
    this.screen.render();
  }

  /** Shows an error: a daemon rpc-error as ERROR CODE: message (first error, and how many more). */
  error(e: unknown): void {
    let text: string;
    if (e instanceof NetconfRpcError) {
      const x = e.errors[0];
      text = `ERROR ${x.appTag ?? x.tag}: ${x.message}${e.errors.length > 1 ? ` (+${e.errors.length - 1} more)` : ''}`;
    } else if (e instanceof Error) text = `ERROR ${(e as { code?: string }).code ?? 'CLIENT'}: ${e.message}`;
    else text = String(e);
    this.message.setContent(`{bold}${blessed.escape(text.slice(0, WIDTH))}{/bold}`);
    this.screen.render();
  }

  /** Reads one line on the message line; resolves to null on Escape. */
  prompt(label: string, initial = '', secret = false): Promise<string | null> {
    this.prompting = true;
    this.message.setContent(label);
    const box = blessed.textbox({ parent: this.screen, top: 22, left: label.length, width: WIDTH - label.length, height: 1, censor: secret, inputOnFocus: false, style: { underline: true } });
    box.setValue(initial);
    this.screen.render();
    return new Promise((resolve) => {
      box.readInput((_err, value) => {
        box.destroy();
        this.prompting = false;
        this.message.setContent('');
        this.screen.render();
        resolve(value === undefined || value === null ? null : value);
      });
    });
  }

  /** Asks a yes/no question; resolves to true for y. */
  async confirm(question: string): Promise<boolean> {
    const a = await this.prompt(`${question} (y/n) `);
    return a !== null && /^y(es)?$/i.test(a.trim());
  }
}
