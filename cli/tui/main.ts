/** `vcn tui`: placeholder until the screens land. */
import type { CommandIo } from '../compile-command.js';

export async function tuiCommand(_argv: string[], io: CommandIo): Promise<number> {
  io.err('vcn tui: not built yet\n');
  return 4;
}
