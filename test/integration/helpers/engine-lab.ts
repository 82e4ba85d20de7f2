/** A lab with the real engine in its engine namespace: compile → render → nft, as the appliance runs it. */
import type { Config } from '../../../appliance/model/config.generated.js';
import { Engine } from '../../../appliance/engine.js';
import { kernelFacts } from '../../../appliance/datapath/kernel-facts.js';
import { NftDriver } from '../../../appliance/datapath/nft-driver.js';
import { formatIssue } from '../../../appliance/errors.js';
import { checkConfig } from '../../../mgmt/schema/load-config.js';
import { Lab, type LabOptions } from '../../../cli/lab/index.js';

export interface EngineLab {
  lab: Lab;
  engine: Engine;
  driver: NftDriver;
  /** Validates like a commit would, then loads the configuration into the engine. */
  load(config: Config): Promise<void>;
  down(): Promise<void>;
}

export function validated(config: Config): Config {
  const { config: checked, issues } = checkConfig(JSON.parse(JSON.stringify(config)));
  if (issues.length) throw new Error(`invalid test configuration:\n${issues.map(formatIssue).join('\n')}`);
  return checked;
}

export async function engineLab(options: LabOptions = {}): Promise<EngineLab> {
  const lab = await Lab.up(options);
  try {
    const ns = lab.ns('eng');
    const driver = new NftDriver({ netns: ns });
    const engine = new Engine({ datapath: driver, facts: kernelFacts(ns) });
    return {
      lab,
      engine,
      driver,
      load: async (config) => {
        await engine.load(validated(config));
      },
      down: () => lab.down(),
    };
  } catch (e) {
    await lab.down();
    throw e;
  }
}
