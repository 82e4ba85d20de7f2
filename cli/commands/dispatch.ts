/** The daemon-facing subcommands of `vcn`: option parsing and dispatch onto cli/commands/*. */
import { parseArgs } from 'node:util';
import type { CommandIo } from '../compile-command.js';
import { commitCommand, compareCommand, rollbackCommand, traceCommand, validateCommand } from './commit-ops.js';
import { EXIT, reportError, socketPath, UsageError, withClient } from './common.js';
import { deleteCommand, loadCommand, setCommand } from './edit.js';
import { show } from './show.js';
import { cutoverNameCommand, detectModeCommand } from './share-ops.js';
import { HEALTH_COMMANDS, healthCommand } from './health.js';

export const CLIENT_COMMANDS = [
  ...new Set(['show', 'set', 'delete', 'load', 'commit', 'confirm', 'cancel-commit', 'discard', 'rollback', 'compare', 'validate', 'trace', 'cutover-name', 'detect-server-mode', ...HEALTH_COMMANDS]),
];

export async function clientCommand(command: string, argv: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { socket: { type: 'string' }, json: { type: 'boolean' }, message: { type: 'string', short: 'm' }, force: { type: 'boolean' }, preview: { type: 'boolean' } },
    });
  } catch (e) {
    io.err(`vcn ${command}: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const { values, positionals: args } = parsed;
  const json = values.json ?? false;
  const none = (): void => {
    if (args.length) throw new UsageError(`${command} takes no arguments`);
  };
  try {
    // Usage errors that need no daemon are reported before connecting.
    if (command === 'show' && !args.length) throw new UsageError('show what? config, services, devices, counters, commits or events');
    if ((command === 'set' || command === 'delete') && !args.length) throw new UsageError(`${command} needs a path`);
  } catch (e) {
    return reportError(e, io);
  }
  return withClient(socketPath(values.socket), io, async (c) => {
    switch (command) {
      case 'show':
        return show(c, args, json, io);
      case 'set':
        return setCommand(c, args);
      case 'delete':
        return deleteCommand(c, args);
      case 'load':
        return loadCommand(c, args, io);
      case 'commit':
        return commitCommand(c, args, values.message, json, io);
      case 'confirm':
        none();
        await c.confirm();
        io.out('confirmed\n');
        return 0;
      case 'cancel-commit': {
        none();
        const id = await c.cancelCommit();
        io.out(json ? `${JSON.stringify({ commitId: id })}\n` : `confirmed commit cancelled: reverted as commit ${id}\n`);
        return 0;
      }
      case 'discard':
        none();
        await c.discard();
        io.out('candidate discarded\n');
        return 0;
      case 'rollback':
        return rollbackCommand(c, args, values.message, json, io);
      case 'compare':
        return compareCommand(c, args, json, io);
      case 'validate':
        return validateCommand(c, args, json, io);
      case 'trace':
        return traceCommand(c, args, json, io);
      case 'cutover-name':
        return cutoverNameCommand(c, args, values.message, json, io);
      case 'detect-server-mode':
        return detectModeCommand(c, args, json, io);
      default:
        if (HEALTH_COMMANDS.includes(command)) return healthCommand(c, command, args, { json, force: values.force, preview: values.preview }, io);
        throw new UsageError(`unknown command '${command}'`);
    }
  });
}
