/** History: the commit list, the changes each commit made (Enter), and rollback to one (r). */
import type { CommitEntry } from '../../netconf-client/client.js';
import { changeLines } from '../../views/change-lines.js';
import type { App, Screen } from '../app.js';
import { list, text } from '../widgets.js';

export function historyScreen(app: App): Screen {
  let commits: CommitEntry[] = [];
  let selected = 0;
  let diffBox: ReturnType<typeof text> | undefined;

  const draw = async () => {
    for (const ch of [...app.body.children]) ch.destroy();
    commits = await app.client.history(50);
    text(app, 0, 1, ` ${'ID'.padStart(4)}  ${'TIME'.padEnd(19)} ${'USER'.padEnd(8)} ${'VIA'.padEnd(7)} ${'KIND'.padEnd(9)} COMMENT`);
    const rows = commits.map((c) => ` ${String(c.id).padStart(4)}  ${c.time.replace('T', ' ').slice(0, 19)} ${c.user.padEnd(8)} ${c.client.padEnd(7)} ${c.kind.padEnd(9)} ${c.comment}`.slice(0, 79));
    const l = list(app, { top: 1, height: 9, items: rows.length ? rows : [' (no commits yet)'], onSelect: (i) => showDiff(i) });
    l.select(Math.min(selected, Math.max(rows.length - 1, 0)));
    l.on('select item', (_: unknown, i: number) => (selected = i));
    diffBox = text(app, 10, 11, ' Enter shows what a commit changed; r rolls back to it.');
    app.screen.render();
  };

  const showDiff = async (i: number) => {
    const c = commits[i];
    if (!c) return;
    const changes = c.parent !== undefined ? await app.client.compare(c.parent, c.id) : [];
    const lines = changeLines(changes);
    diffBox?.setContent([` Commit ${c.id} vs ${c.parent ?? 'empty'}: ${changes.length} change(s)`, ...lines.slice(0, 10).map((l) => ` ${l}`.slice(0, 79))].join('\n'));
    app.screen.render();
  };

  return {
    title: 'History',
    help: 'Enter:changes r:rollback to selected',
    show: draw,
    async key(name) {
      if (name !== 'r') return false;
      const c = commits[selected];
      if (!c) return true;
      if (!(await app.confirm(`Roll back to commit ${c.id}?`))) return true;
      const id = await app.client.rollback(c.id);
      await app.refresh();
      await draw();
      app.info(`Rolled back to commit ${c.id} as commit ${id}.`);
      return true;
    },
  };
}
