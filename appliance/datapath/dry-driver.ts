/**
 * The dry driver: a datapath that records the scripts it would run instead of
 * running nft. For unit tests of everything above the kernel seam.
 */
import { DatapathError } from './datapath.js';
import { ScriptDatapath, type NftRunner } from './script-datapath.js';

export interface RecordedScript {
  check: boolean;
  script: string;
}

export class DryRunner implements NftRunner {
  readonly scripts: RecordedScript[] = [];
  readonly queries: string[][] = [];
  /** When set, scripts whose text matches are rejected like nft would reject them. */
  reject?: RegExp;
  /** Answers to queries, by their joined arguments; unknown queries answer an empty table. */
  answers = new Map<string, string>();

  async script(script: string, check: boolean): Promise<void> {
    this.scripts.push({ check, script });
    if (this.reject?.test(script)) {
      throw new DatapathError('NFT_REJECTED', `nft${check ? ' -c' : ''} rejected the ruleset (dry run)`, 'dry run: rejected', ['nft', '-f', '-']);
    }
  }

  async query(args: string[]): Promise<string> {
    this.queries.push(args);
    const a = this.answers.get(args.join(' '));
    if (a !== undefined) return a;
    if (args[0] === '-j') return JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }] });
    throw new DatapathError('NFT_REJECTED', `dry run: no answer for nft ${args.join(' ')}`, '', args);
  }

  /** The scripts actually applied (not the checks). */
  applied(): string[] {
    return this.scripts.filter((s) => !s.check).map((s) => s.script);
  }
}

export class DryDriver extends ScriptDatapath {
  constructor(
    table = 'vcn',
    readonly dry: DryRunner = new DryRunner(),
  ) {
    super(dry, table);
  }
}
