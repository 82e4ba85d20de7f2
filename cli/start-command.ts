/** `vcn start`: placeholder until the lab and engine land (issue 3). */
import type { CommandIo } from './compile-command.js';

export async function startCommand(_args: string[], io: CommandIo): Promise<number> {
  io.out('vcn start: the lab and engine are not wired yet.\n');
  return 0;
}
