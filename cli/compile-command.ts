/** `vcn compile --config FILE [--json]`: print the sequence table a configuration compiles to. */
import { compile } from '../appliance/compile/compile.js';
import { formatTable } from '../appliance/compile/format-table.js';
import { formatIssue, VcnError } from '../appliance/errors.js';
import { loadConfigFile } from '../mgmt/schema/load-config.js';

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export function compileCommand(args: { config?: string; json?: boolean }, io: CommandIo): number {
  if (!args.config) {
    io.err('usage: vcn compile --config FILE [--json]\n');
    return 2;
  }
  try {
    const table = compile(loadConfigFile(args.config));
    io.out(args.json ? `${JSON.stringify(table, null, 2)}\n` : formatTable(table));
    return 0;
  } catch (e) {
    if (e instanceof VcnError) {
      for (const issue of e.issues) io.err(`${formatIssue(issue)}\n`);
      if (!e.issues.length) io.err(`${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
