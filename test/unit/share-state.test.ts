/** NETCONF operational state lists the per-member counters of load-shared rows (read through the datapath). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { deviceLegsOf } from '../../appliance/compile/render-facts.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { stateXml } from '../../mgmt/netconf/ops/state.js';
import type { NetconfServer } from '../../mgmt/netconf/server.js';
import { loadFixture } from '../helpers/config.js';

describe('share counters in the operational state', () => {
  it('each member of a shared row appears with its counter', async () => {
    const config = loadFixture(join(import.meta.dirname, '../golden/compile/share-maintenance.json'));
    const interfaceMacs = { I0: '02:ee:00:00:00:00', I3: '02:ee:00:00:00:03' };
    const ruleset = renderRuleset(compile(config), { interfaceMacs, deviceLegs: deviceLegsOf(config) }, { tableName: 'vcn' });
    const driver = new DryDriver();
    await driver.apply(ruleset);
    const counter = (name: string, packets: number) => ({ counter: { family: 'netdev', name, table: 'vcn', packets, bytes: packets * 100 } });
    const listing = JSON.stringify({ nftables: [counter('share/W1/443/in/S1', 7), counter('share/W1/443/in/S3', 5)] });
    driver.dry.query = async () => listing;
    const server = { nb: { runningCommit: () => 3, pendingConfirm: () => undefined }, datapath: driver } as unknown as NetconfServer;
    const xml = await stateXml(server);
    expect(xml).toContain('<share-member><row>W1/443/in</row><service>W1</service><device>S1</device><packets>7</packets><bytes>700</bytes></share-member>');
    expect(xml).toContain('<device>S3</device><packets>5</packets>');
  });
});
