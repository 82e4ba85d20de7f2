/**
 * The engine: owns the running sequence table and its ruleset. It turns a
 * validated configuration (plus the health state) into a ruleset, checks it
 * against the kernel and applies it atomically. A failed check or apply leaves
 * the previous ruleset running.
 */
import { compile, type RuntimeState } from './compile/compile.js';
import { deviceLegsOf, type DataplaneFacts } from './compile/render-facts.js';
import type { RenderedRuleset } from './compile/render-model.js';
import { renderRuleset } from './compile/render-nft.js';
import { clearAddressCaches } from './compile/render-addr.js';
import type { SequenceTable } from './compile/sequence-table.js';
import type { ApplyOptions, ApplyResult, CounterSnapshot, Datapath } from './datapath/datapath.js';
import type { Config } from './model/config.generated.js';
import { probeSourcesToAccept } from './probe-sources.js';

/** Kernel facts the engine reads (interface MACs, neighbours); the real one asks the kernel, tests pass fixed ones. */
export type FactsSource = () => Promise<Pick<DataplaneFacts, 'interfaceMacs' | 'neighbors'>>;

export interface Prepared {
  config: Config;
  table: SequenceTable;
  ruleset: RenderedRuleset;
}

/** What the engine keeps of the running change: the ruleset the next diff starts from. Not the sequence table nor the configuration (the store has it): at 100k services each weighs 60–250 MB. */
export type Running = Pick<Prepared, 'ruleset'>;

export interface EngineOptions {
  datapath: Datapath;
  facts: FactsSource;
  tableName?: string;
  /** The engine's own management addresses, accepted before steering. */
  localAddresses?: string[];
}

export class Engine {
  private current: Running | undefined;

  constructor(private readonly options: EngineOptions) {}

  /** Compile and render (pure once the facts are read). Throws RenderError on a table the kernel could not express. */
  async prepare(config: Config, state: RuntimeState = {}): Promise<Prepared> {
    const table = compile(config, state);
    const kernel = await this.options.facts();
    const facts: DataplaneFacts = {
      interfaceMacs: kernel.interfaceMacs,
      neighbors: kernel.neighbors,
      deviceLegs: deviceLegsOf(config),
      interfaces: config.interfaces.interface.filter((i) => i.role !== 'management' && kernel.interfaceMacs[i.name]).map((i) => i.name),
      local: {
        // The engine's own addresses: the daemon's, and those configured on its interfaces (DHCP and DNS for devices).
        // And the sources of its own probes where their replies would look like a service's (probe-sources.ts).
        addresses: [...(this.options.localAddresses ?? []), ...config.interfaces.interface.flatMap((i) => i.address), ...probeSourcesToAccept(config.devices.device)],
        arp: true,
        nd: true,
        dhcp: config.interfaces.interface.some((i) => i.dhcp !== undefined),
      },
    };
    const ruleset = renderRuleset(table, facts, { tableName: this.options.tableName ?? 'vcn' });
    clearAddressCaches();
    return { config, table, ruleset };
  }

  /** `nft -c` of what apply would send. */
  async check(prepared: Pick<Prepared, 'ruleset'>): Promise<void> {
    await this.options.datapath.check(prepared.ruleset);
  }

  /** Makes the prepared ruleset the running one, atomically. */
  async apply(prepared: Pick<Prepared, 'ruleset'>, opts?: ApplyOptions): Promise<ApplyResult> {
    const result = await this.options.datapath.apply(prepared.ruleset, opts);
    this.current = { ruleset: prepared.ruleset };
    return result;
  }

  /** prepare + apply in one step, for callers without a separate validation phase. */
  async load(config: Config, state: RuntimeState = {}, opts?: ApplyOptions): Promise<ApplyResult> {
    return this.apply(await this.prepare(config, state), opts);
  }

  /**
   * Moves rows that diffs put into overflow maps into their direct maps (datapath/overflow.ts):
   * one transaction, counts carried. Undefined when there is nothing to move or the datapath cannot.
   */
  async compact(): Promise<ApplyResult | undefined> {
    const result = await this.options.datapath.compact?.();
    const now = this.options.datapath.running();
    if (result && now) this.current = { ruleset: now };
    return result;
  }

  running(): Running | undefined {
    return this.current;
  }

  readCounters(): Promise<CounterSnapshot> {
    return this.options.datapath.readCounters();
  }
}
