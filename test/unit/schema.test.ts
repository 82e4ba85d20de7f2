/** The YANG module is the single source: yanglint accepts it and our samples, and the derived code is current. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromJson7951, fromXml, toXml } from '../../mgmt/schema/config-codec.js';
import { generate, DESCRIPTOR_FILE, TYPES_FILE, YANG_FILE } from '../../mgmt/schema/generate.js';
import { validateTree } from '../../mgmt/schema/validate-tree.js';

const fixtures = join(import.meta.dirname, '../golden/compile');
const jsonFiles = readdirSync(fixtures).filter((f) => f.endsWith('.json'));
const tmp = mkdtempSync(join(tmpdir(), 'vcn-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('YANG module', () => {
  it('yanglint accepts the module', () => {
    execFileSync('yanglint', [YANG_FILE]);
  });

  it('generated descriptor and types match the module (run npm run generate after editing vcn.yang)', () => {
    const { descriptor, types } = generate();
    expect(readFileSync(DESCRIPTOR_FILE, 'utf8')).toBe(descriptor);
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(types);
  });

  for (const file of jsonFiles) {
    it(`yanglint accepts sample data ${file} as JSON and as our XML encoding`, () => {
      execFileSync('yanglint', ['-t', 'config', YANG_FILE, join(fixtures, file)]);
      const tree = fromJson7951(JSON.parse(readFileSync(join(fixtures, file), 'utf8'))).tree;
      const xmlFile = join(tmp, file.replace('.json', '.xml'));
      writeFileSync(xmlFile, toXml(tree));
      execFileSync('yanglint', ['-t', 'config', YANG_FILE, xmlFile]);
      // XML decodes back to the same tree.
      const back = fromXml(readFileSync(xmlFile, 'utf8'));
      expect(back.issues).toEqual([]);
      expect(validateTree(back.tree).config).toEqual(validateTree(tree).config);
    });
  }

  it('yanglint rejects what our validator rejects (a schema violation)', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'vcn:services': { service: [{ name: 'x', dscp: 99 }] } }));
    const r = spawnSync('yanglint', ['-t', 'config', YANG_FILE, bad], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(validateTree(fromJson7951(JSON.parse(readFileSync(bad, 'utf8'))).tree).issues.map((i) => i.code)).toContain('SCHEMA_RANGE');
  });

  it('XML inside a NETCONF <config> wrapper decodes', () => {
    const xml = `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><services xmlns="urn:vcn:appliance"><service><name>a</name><dscp>10</dscp></service></services></config>`;
    const { tree, issues } = fromXml(xml);
    expect(issues).toEqual([]);
    expect(validateTree(tree).config.services.service[0]).toMatchObject({ name: 'a', dscp: 10 });
  });

  it('normalisation fills defaults and empty lists', () => {
    const { config, issues } = validateTree({ devices: { device: [{ name: 'd', function: 'ids', 'delivery-mode': 'transparent', leg: [{ name: 'l', interface: 'i' }] }] }, interfaces: { interface: [{ name: 'i', role: 'device-segment' }] } });
    expect(issues).toEqual([]);
    expect(config.devices.device[0]['admin-state']).toBe('in-service');
    expect(config.services.service).toEqual([]);
    expect(config.interfaces.interface[0]).toEqual({ name: 'i', role: 'device-segment', address: [], gateway: {} });
  });
});
