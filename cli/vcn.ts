#!/usr/bin/env node
/**
 * The `vcn` command. Subcommands grow with the product; each lives in its own
 * module and returns an exit code scripts can rely on: 0 ok, 1 rejected input,
 * 2 usage error.
 */
import { parseArgs } from 'node:util';
import { compileCommand, type CommandIo } from './compile-command.js';

const USAGE = `usage: vcn <command> [options]

commands:
  compile --config FILE [--json]   print the sequence table of a configuration file
  start                            bring up the lab and the engine (demo)
  accounting --db FILE [--from T] [--to T] [--format csv|json]
                                   usage per service·port and per client for a time range
`;

const io: CommandIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'compile': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } });
      return compileCommand(values, io);
    }
    case 'accounting': {
      const { accountingCommand } = await import('./accounting-command.js');
      return accountingCommand(rest, io);
    }
    case 'start': {
      const { startCommand } = await import('./start-command.js');
      return startCommand(rest, io);
    }
    case undefined:
    case 'help':
    case '--help':
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.err(`vcn: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`vcn: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
