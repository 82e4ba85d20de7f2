/**
 * Crash safety. Each lab writes a state file before it creates anything; a lab
 * whose owner process is gone is torn down by the next `cleanupStale()`.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { netnsDelLines } from './commands.js';
import { ipBatch, killPids, listNetns, pidsInNetns } from './netns.js';
import { NETNS_RE, STATE_DIR } from './topology.js';

export interface LabState {
  prefix: string;
  ownerPid: number;
  /** /proc/PID/stat start time of the owner, so a reused PID is not taken for it. */
  ownerStart: string;
  namespaces: string[];
  /** Background processes the lab started (all live inside its namespaces). */
  pids: number[];
  etcDirs: string[];
  workDir: string;
  stateFile: string;
  createdAt: string;
}

export async function processStart(pid: number): Promise<string | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22: starttime
  } catch {
    return null;
  }
}

export async function writeState(state: LabState): Promise<void> {
  await mkdir(state.stateFile.slice(0, state.stateFile.lastIndexOf('/')), { recursive: true });
  const tmp = `${state.stateFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, state.stateFile);
}

async function readStates(dir: string): Promise<LabState[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const states: LabState[] = [];
  for (const n of names.filter((n) => n.endsWith('.json'))) {
    try {
      states.push(JSON.parse(await readFile(`${dir}/${n}`, 'utf8')) as LabState);
    } catch {
      // Half-written by a crash mid-rename is impossible; unreadable means foreign: leave it.
    }
  }
  return states;
}

export async function ownerAlive(state: LabState): Promise<boolean> {
  const start = await processStart(state.ownerPid);
  return start !== null && start === state.ownerStart;
}

/**
 * Kills every process inside the lab's namespaces (by PID), deletes the
 * namespaces, their /etc/netns files, the work dir and finally the state file,
 * so an interrupted teardown can be finished by the next one.
 */
export async function destroy(state: Pick<LabState, 'namespaces' | 'etcDirs' | 'workDir' | 'stateFile'>): Promise<void> {
  const existing = new Set(await listNetns());
  const present = state.namespaces.filter((n) => existing.has(n));
  // Twice: a process may fork while we kill its parent.
  for (let i = 0; i < 2; i++) {
    const pids = [...(await pidsInNetns(present)).values()].flat();
    if (pids.length === 0) break;
    await killPids(pids);
  }
  // -force: keep deleting past a namespace that vanished meanwhile.
  if (present.length > 0) await ipBatch(null, netnsDelLines(present), { allowFail: true, force: true });
  for (const d of state.etcDirs) await rm(d, { recursive: true, force: true });
  await rm(state.workDir, { recursive: true, force: true });
  await rm(state.stateFile, { force: true });
}

/**
 * Tears down every lab recorded in `dir` whose owner process is gone. Returns
 * the namespaces removed and every namespace a state file claims (alive or not).
 */
export async function sweepDeadOwners(dir: string): Promise<{ removed: string[]; claimed: Set<string> }> {
  const removed: string[] = [];
  const claimed = new Set<string>();
  for (const s of await readStates(dir)) {
    s.namespaces.forEach((n) => claimed.add(n));
    if (await ownerAlive(s)) continue;
    await destroy(s);
    removed.push(...s.namespaces);
  }
  return { removed, claimed };
}

/** Namespaces that look like ours, claimed by no state file and older than this, are orphans. */
const ORPHAN_AGE_MS = 60_000;

/**
 * Removes labs whose owner died (state file present) and orphaned lab
 * namespaces (no state file, e.g. it was deleted by hand). Returns the
 * namespaces it removed. Labs whose owner is alive are never touched.
 */
export async function cleanupStale(): Promise<string[]> {
  // Read states before listing namespaces: a lab writes its state before it creates any.
  const { removed, claimed } = await sweepDeadOwners(STATE_DIR);
  const now = Date.now();
  const orphans: string[] = [];
  for (const n of await listNetns()) {
    if (!NETNS_RE.test(n) || claimed.has(n)) continue;
    try {
      if (now - (await stat(`/run/netns/${n}`)).mtimeMs > ORPHAN_AGE_MS) orphans.push(n);
    } catch {
      // Gone meanwhile.
    }
  }
  if (orphans.length > 0) {
    await destroy({
      namespaces: orphans,
      etcDirs: orphans.map((n) => `/etc/netns/${n}`),
      workDir: `${STATE_DIR}/.none`,
      stateFile: `${STATE_DIR}/.none.json`,
    });
    removed.push(...orphans);
  }
  return removed;
}
