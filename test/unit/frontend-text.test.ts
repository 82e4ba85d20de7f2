/**
 * The pure pieces of the front ends: Junos-style paths to edit-config XML,
 * diffs in the words of `vcn set` (secrets masked), the Junos-style config
 * text, and the wizard's password policy.
 */
import { describe, expect, it } from 'vitest';
import { PathError, pathEdit } from '../../cli/commands/config-path.js';
import { formatConfig } from '../../cli/commands/format-config.js';
import { passwordProblem } from '../../cli/tui/password-policy.js';
import { changeLines } from '../../cli/views/change-lines.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';

const NC = 'xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"';

describe('pathEdit', () => {
  it('walks containers, takes list keys after the list name, ends at a leaf value', () => {
    expect(pathEdit(['services', 'service', 'web', 'port', '80', 'step', '1', 'device', 'fw'], 'set')).toBe(
      '<services xmlns="urn:vcn:appliance"><service><name>web</name><port><port>80</port><step><seq>1</seq><device>fw</device></step></port></service></services>',
    );
    expect(pathEdit(['system', 'hostname', 'a&b'], 'set')).toBe('<system xmlns="urn:vcn:appliance"><hostname>a&amp;b</hostname></system>');
  });
  it('delete marks the last node (leaf, list entry, leaf-list value)', () => {
    expect(pathEdit(['services', 'service', 'web'], 'delete')).toBe(`<services xmlns="urn:vcn:appliance"><service nc:operation="delete" ${NC}><name>web</name></service></services>`);
    expect(pathEdit(['system', 'hostname'], 'delete')).toBe(`<system xmlns="urn:vcn:appliance"><hostname nc:operation="delete" ${NC}/></system>`);
    expect(pathEdit(['pools', 'pool', 'p', 'member', 'fw'], 'delete')).toContain(`<member nc:operation="delete" ${NC}>fw</member>`);
  });
  it('names what is wrong with a path', () => {
    expect(() => pathEdit(['system', 'hostnam', 'x'], 'set')).toThrow(/'hostnam' is not a node of \/system \(one of: hostname/);
    expect(() => pathEdit(['system', 'hostname'], 'set')).toThrow(/needs a value/);
    expect(() => pathEdit(['system', 'hostname', 'a', 'b'], 'set')).toThrow(/takes one value/);
    expect(() => pathEdit(['services', 'service'], 'set')).toThrow(PathError);
  });
});

describe('changeLines', () => {
  it('spells an added entry out leaf by leaf and masks secrets', () => {
    const lines = changeLines([
      { operation: 'changed', path: '/vcn:system/vcn:hostname', old: 'vcn', new: 'edge1' },
      { operation: 'added', path: "/vcn:services/vcn:service[vcn:name='w']/vcn:port[vcn:port='80']", new: JSON.stringify({ port: 80, protocol: 'tcp', step: [{ seq: 1, device: 'fw', 'copy-to': ['ids'] }] }) },
      { operation: 'removed', path: "/vcn:services/vcn:service[vcn:name='old']", old: '{}' },
      { operation: 'added', path: "/vcn:system/vcn:login/vcn:user[vcn:name='admin']", new: JSON.stringify({ name: 'admin', class: 'admin', password: 'Sekrit-123' }) },
      { operation: 'changed', path: "/vcn:system/vcn:login/vcn:user[vcn:name='admin']/vcn:password", old: 'a', new: 'b' },
    ]);
    expect(lines).toEqual([
      '~ system hostname: vcn -> edge1',
      '+ services service w port 80 protocol tcp',
      '+ services service w port 80 step 1 device fw',
      '+ services service w port 80 step 1 copy-to ids',
      '- services service old',
      '+ system login user admin class admin',
      '+ system login user admin password ********',
      '~ system login user admin password: ******** -> ********',
    ]);
  });
});

describe('formatConfig', () => {
  it('prints containers and list entries in braces, leaves with semicolons', () => {
    const { config } = checkConfig({ system: { hostname: 'edge1' }, packages: { package: [{ name: 'p', function: ['firewall', 'server'] }] } });
    const text = formatConfig(config);
    expect(text).toContain('system {\n    hostname edge1;');
    expect(text).toContain('packages {\n    package p {\n        function [ firewall server ];\n    }\n}');
  });
});

describe('passwordProblem', () => {
  it('refuses empty, short, single-class, well-known and user-name passwords; accepts a strong one', () => {
    expect(passwordProblem('')).toMatch(/empty/);
    expect(passwordProblem('Ab1!')).toMatch(/10 characters/);
    expect(passwordProblem('abcdefghijkl')).toMatch(/three/);
    expect(passwordProblem('Admin-12345!')).toMatch(/user name/);
    expect(passwordProblem('Password1!')).toMatch(/well-known/);
    expect(passwordProblem('aaaaaaaaaA1')).toMatch(/different characters/);
    expect(passwordProblem('Tr4ffic-Steer!')).toBeUndefined();
  });
});
