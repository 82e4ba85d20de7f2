/**
 * Commit: the changes running → candidate, a comment and an optional
 * confirmed-commit timeout; commit, discard, or confirm/cancel a pending
 * confirmed commit. A refused commit shows the daemon's code and message and
 * leaves the candidate and the form as they were.
 */
import { changeLines } from '../../views/change-lines.js';
import type { App, Screen } from '../app.js';
import { Form, text } from '../widgets.js';

export function commitScreen(app: App): Screen {
  let diffBox: ReturnType<typeof text> | undefined;
  let form: Form | undefined;
  const values = { comment: '', confirmed: '' };

  const drawDiff = async () => {
    const changes = await app.client.compare('running', 'candidate');
    const lines = changeLines(changes);
    const room = 13;
    const shown = lines.length > room ? [...lines.slice(0, room - 1), `... and ${lines.length - room + 1} more`] : lines;
    diffBox?.setContent([` Changes running -> candidate: ${changes.length}`, ...shown.map((l) => ` ${l}`.slice(0, 79))].join('\n'));
    app.screen.render();
  };

  return {
    title: 'Commit',
    help: 'Up/Down:move Enter:edit/run',
    async show() {
      form = new Form(
        app,
        [
          { key: 'comment', label: 'Comment', value: values.comment },
          { key: 'confirmed', label: 'Confirmed (seconds)', value: values.confirmed, hint: '(empty: plain commit)' },
        ],
        [
          {
            label: 'Commit',
            run: async () => {
              values.comment = form!.value('comment');
              values.confirmed = form!.value('confirmed');
              const n = values.confirmed ? Number(values.confirmed) : undefined;
              app.info('Committing ...');
              const r = await app.client.commit({ comment: values.comment || undefined, confirmed: n });
              values.comment = '';
              values.confirmed = '';
              form!.set('comment', '');
              form!.set('confirmed', '');
              await app.refresh();
              await drawDiff();
              app.info(`Commit ${r.commitId} complete${r.confirmDeadline ? `: reverts unless confirmed within ${n} s` : ''}.`);
            },
          },
          {
            label: 'Discard candidate changes',
            run: async () => {
              if (!(await app.confirm('Discard all uncommitted changes?'))) return;
              await app.client.discard();
              await drawDiff();
              app.info('Candidate discarded.');
            },
          },
          {
            label: 'Confirm pending commit',
            run: async () => {
              await app.client.confirm();
              await app.refresh();
              app.info('Confirmed.');
            },
          },
          {
            label: 'Cancel pending commit (revert now)',
            run: async () => {
              const id = await app.client.cancelCommit();
              await app.refresh();
              await drawDiff();
              app.info(`Reverted as commit ${id}.`);
            },
          },
        ],
        { top: 0, height: 7 },
      );
      diffBox = text(app, 7, 14, '');
      await drawDiff();
    },
    hide() {
      if (form) {
        values.comment = form.value('comment');
        values.confirmed = form.value('confirmed');
      }
    },
  };
}
