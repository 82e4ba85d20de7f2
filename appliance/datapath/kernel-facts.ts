/**
 * What the renderer needs to know about the kernel: interface MACs and the
 * neighbour table (next-hop IP → MAC per interface). Read with `ip -j`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DataplaneFacts } from '../compile/render-facts.js';
import { DatapathError } from './datapath.js';
import { readInterfaceMacs } from './nft-driver.js';

const run = promisify(execFile);

export async function readNeighbors(netns?: string): Promise<Record<string, Record<string, string>>> {
  const argv = [...(netns ? ['-n', netns] : []), '-j', 'neigh', 'show'];
  let stdout: string;
  try {
    ({ stdout } = await run('ip', argv, { timeout: 15_000 }));
  } catch (e) {
    throw new DatapathError('NFT_UNAVAILABLE', `ip ${argv.join(' ')} failed: ${(e as Error).message}`);
  }
  const neighbors: Record<string, Record<string, string>> = {};
  for (const n of JSON.parse(stdout || '[]') as { dst: string; dev: string; lladdr?: string; state?: string[] }[]) {
    if (!n.lladdr || n.state?.includes('FAILED') || n.state?.includes('INCOMPLETE')) continue;
    (neighbors[n.dev] ??= {})[n.dst] = n.lladdr;
  }
  return neighbors;
}

export function kernelFacts(netns?: string): () => Promise<Pick<DataplaneFacts, 'interfaceMacs' | 'neighbors'>> {
  return async () => {
    const [interfaceMacs, neighbors] = await Promise.all([readInterfaceMacs(netns), readNeighbors(netns)]);
    return { interfaceMacs, neighbors };
  };
}
