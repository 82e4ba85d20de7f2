#!/usr/bin/env node
/**
 * The `vcn` command. Subcommands grow with the product; each lives in its own
 * module and returns an exit code scripts can rely on: 0 ok, 1 rejected input
 * (the daemon's error code is printed), 2 usage error, 3 cannot reach the
 * daemon, 4 not available in this daemon. Commands that talk to the daemon are
 * NETCONF clients of its unix socket (--socket PATH, $VCN_SOCKET, or
 * /run/vcn/netconf.sock).
 */
import { parseArgs } from 'node:util';
import { compileCommand, type CommandIo } from './compile-command.js';

const USAGE = `usage: vcn <command> [options]

commands:
  compile --config FILE [--json]   print the sequence table of a configuration file
  start                            bring up the lab and the engine (demo)

  show config [running|candidate|startup]     the configuration (Junos-style text)
  show services|devices|counters|commits|events
  set PATH VALUE | delete PATH     edit the candidate (e.g. set system hostname edge1)
  load merge|replace FILE          merge a YANG JSON/XML file into the candidate, or replace it
  commit [confirmed N] [-m TEXT]   commit the candidate (confirmed: reverts after N s)
  confirm | cancel-commit          keep / revert the pending confirmed commit
  discard                          throw the candidate away
  rollback N [-m TEXT]             make commit N's configuration running again
  compare A B                      differences between commits/running/candidate/startup
  validate [SERVICE [PORT]]        validate the candidate; SERVICE: probe its hops (needs --health)
  trace CLIENT-IP SERVICE-IP [S]   trace test traffic through the engine (needs --health)
  cutover-name NAME IP [-m TEXT]   remap a service name to IP in one commit (rollback maps it back)
  detect-server-mode DEVICE [IP [PORT]]  probe whether a server answers in loopback, alias or nat mode
  health                           device health: oper state, failures, response times
  failback DEVICE [--force]        a failed-over device back into service
  maintenance DEVICE on|off        put a device into maintenance / back into service
  replace-device FROM TO [--preview]  replace a device in every service (one commit)
  clone-service SERVICE NAME IP    copy a service to a new name and service IP
  tui                              the full-screen console interface
  accounting --db FILE [--from T] [--to T] [--format csv|json]
                                   usage per service·port and per client for a time range

options: --socket PATH (default $VCN_SOCKET or /run/vcn/netconf.sock), --json (show, commit,
rollback, compare, cutover-name, detect-server-mode), -m TEXT (commit comment)
exit codes: 0 ok, 1 rejected by the daemon (code shown), 2 usage, 3 cannot connect,
4 not available in this daemon
`;

/** Subcommands that talk to the daemon (cli/commands/dispatch.ts). */
const CLIENT_COMMANDS = ['show', 'set', 'delete', 'load', 'commit', 'confirm', 'cancel-commit', 'discard', 'rollback', 'compare', 'validate', 'trace', 'cutover-name', 'detect-server-mode', 'health', 'failback', 'maintenance', 'replace-device', 'clone-service'];

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
    case 'tui': {
      const { tuiCommand } = await import('./tui/main.js');
      return tuiCommand(rest, io);
    }
    case undefined:
    case 'help':
    case '--help':
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      if (CLIENT_COMMANDS.includes(command)) {
        // Loaded on demand: `vcn compile` and usage errors stay as quick to start as before.
        const { clientCommand } = await import('./commands/dispatch.js');
        return clientCommand(command, rest, io);
      }
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
