/**
 * The two widgets every screen is built from: a selectable list (arrow keys,
 * Enter) and a form — a list of `label: value` fields edited on the message
 * line, followed by action items. A form keeps its values when an action
 * fails, so a daemon error never costs the operator what was typed.
 */
import blessed from 'blessed';
import { WIDTH, type App } from './app.js';

export interface ListOptions {
  top: number;
  height: number;
  items: string[];
  onSelect?: (index: number) => void | Promise<void>;
}

export function list(app: App, o: ListOptions): blessed.Widgets.ListElement {
  const l = blessed.list({
    parent: app.body,
    top: o.top,
    left: 0,
    width: WIDTH,
    height: o.height,
    keys: true,
    vi: false,
    mouse: false,
    tags: false,
    items: o.items,
    style: { selected: { inverse: true }, item: {} },
  });
  if (o.onSelect) {
    const run = o.onSelect;
    l.on('select', (_item: unknown, index: number) => {
      Promise.resolve(run(index)).catch((e: unknown) => app.error(e));
    });
  }
  l.focus();
  return l;
}

/** Text in the body at a row (no interaction). */
export function text(app: App, top: number, height: number, content: string): blessed.Widgets.BoxElement {
  return blessed.box({ parent: app.body, top, left: 0, width: WIDTH, height, tags: false, content });
}

export interface Field {
  key: string;
  label: string;
  value: string;
  kind?: 'text' | 'secret' | 'choice';
  choices?: string[];
  /** Shown after the value, e.g. "(empty: none)". */
  hint?: string;
}

export interface Action {
  label: string;
  run: () => void | Promise<void>;
}

export class Form {
  readonly list: blessed.Widgets.ListElement;
  private busy = false;

  constructor(
    private readonly app: App,
    readonly fields: Field[],
    private readonly actions: Action[],
    o: { top: number; height: number },
  ) {
    this.list = list(app, { top: o.top, height: o.height, items: this.items(), onSelect: (i) => this.select(i) });
  }

  value(key: string): string {
    return this.fields.find((f) => f.key === key)?.value ?? '';
  }

  set(key: string, value: string): void {
    const f = this.fields.find((x) => x.key === key);
    if (f) f.value = value;
    this.redraw();
  }

  private items(): string[] {
    const w = Math.max(...this.fields.map((f) => f.label.length), 0);
    return [
      ...this.fields.map((f) => {
        const v = f.kind === 'secret' ? '*'.repeat(Math.min(f.value.length, 20)) : f.value;
        return ` ${f.label.padEnd(w)} : ${v}${f.hint ? `  ${f.hint}` : ''}`.slice(0, WIDTH - 1);
      }),
      ...this.actions.map((a) => ` [ ${a.label} ]`),
    ];
  }

  redraw(): void {
    const sel = (this.list as unknown as { selected: number }).selected;
    this.list.setItems(this.items() as never);
    this.list.select(sel);
    this.app.screen.render();
  }

  private async select(i: number): Promise<void> {
    if (this.busy) return;
    if (i >= this.fields.length) {
      const a = this.actions[i - this.fields.length];
      this.busy = true;
      try {
        await a.run();
      } catch (e) {
        this.app.error(e);
      } finally {
        this.busy = false;
      }
      return;
    }
    const f = this.fields[i];
    if (f.kind === 'choice' && f.choices?.length) {
      const at = f.choices.indexOf(f.value);
      f.value = f.choices[(at + 1) % f.choices.length];
      this.redraw();
      return;
    }
    const v = await this.app.prompt(`${f.label}: `, f.kind === 'secret' ? '' : f.value, f.kind === 'secret');
    if (v !== null) f.value = v.trim();
    this.redraw();
    this.list.focus();
  }
}
