/** edit-config on a tree: operations by list key, inheritance, default-operation, typed values, errors with paths. */
import { describe, expect, it } from 'vitest';
import type { Element } from '@xmldom/xmldom';
import { applyEdit } from '../../mgmt/netconf/edit-tree.js';
import { RpcError } from '../../mgmt/netconf/rpc-error.js';
import { parseXml } from '../../mgmt/netconf/xml.js';

const cfg = (inner: string) =>
  parseXml(`<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><services xmlns="urn:vcn:appliance">${inner}</services></config>`).documentElement as unknown as Element;
const base = () => ({
  services: {
    service: [
      { name: 'a', dscp: 1, acl: { rule: [{ seq: 1, action: 'deny', source: '10.0.0.0/8' }] } },
      { name: 'b', dscp: 2 },
    ],
  },
});
const err = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RpcError);
    return (e as RpcError).errors[0];
  }
  throw new Error('no error');
};

describe('edit-config tree operations', () => {
  it('merge finds list entries by key and types values by the schema', () => {
    const t = base();
    applyEdit(t, cfg('<service><name>b</name><dscp>9</dscp><acl><rule><seq>4</seq><action>permit</action><source>192.0.2.0/24</source></rule></acl></service>'), 'merge', false);
    expect(t.services.service[1]).toEqual({ name: 'b', dscp: 9, acl: { rule: [{ seq: 4, action: 'permit', source: '192.0.2.0/24' }] } });
    expect(t.services.service[0].dscp).toBe(1);
  });

  it('replace, create, delete, remove', () => {
    const t = base() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    applyEdit(t, cfg('<service nc:operation="replace"><name>a</name><description>new</description></service>'), 'merge', false);
    expect(t.services.service[0]).toEqual({ name: 'a', description: 'new' });
    applyEdit(t, cfg('<service nc:operation="create"><name>c</name></service>'), 'merge', false);
    expect(t.services.service.map((s: { name: string }) => s.name)).toEqual(['a', 'b', 'c']);
    expect(err(() => applyEdit(t, cfg('<service nc:operation="create"><name>c</name></service>'), 'merge', false))).toMatchObject({ tag: 'data-exists', path: "/vcn:services/vcn:service[vcn:name='c']" });
    applyEdit(t, cfg('<service nc:operation="delete"><name>c</name></service>'), 'merge', false);
    expect(err(() => applyEdit(t, cfg('<service nc:operation="delete"><name>c</name></service>'), 'merge', false))).toMatchObject({ tag: 'data-missing' });
    applyEdit(t, cfg('<service nc:operation="remove"><name>c</name></service>'), 'merge', false);
    applyEdit(t, cfg('<service><name>b</name><dscp nc:operation="delete"/></service>'), 'merge', false);
    expect(t.services.service[1]).toEqual({ name: 'b' });
  });

  it('default-operation none changes only nodes with an operation; replace replaces everything', () => {
    const t = base();
    applyEdit(t, cfg('<service><name>a</name><dscp>5</dscp><description nc:operation="merge">x</description></service>'), 'none', false);
    expect(t.services.service[0]).toMatchObject({ dscp: 1, description: 'x' });
    applyEdit(t, cfg('<service><name>z</name></service>'), 'replace', false);
    expect(t).toEqual({ services: { service: [{ name: 'z' }] } });
  });

  it('errors: bad value, unknown element, missing key; continue-on-error collects them and applies the rest', () => {
    expect(err(() => applyEdit(base(), cfg('<service><name>a</name><dscp>64</dscp></service>'), 'merge', false))).toMatchObject({ tag: 'invalid-value', appTag: 'SCHEMA_RANGE', path: "/vcn:services/vcn:service[vcn:name='a']/vcn:dscp" });
    expect(err(() => applyEdit(base(), cfg('<service><name>a</name><nope/></service>'), 'merge', false))).toMatchObject({ tag: 'unknown-element' });
    expect(err(() => applyEdit(base(), cfg('<service><dscp>1</dscp></service>'), 'merge', false))).toMatchObject({ tag: 'missing-element' });
    const t = base();
    const errors = applyEdit(t, cfg('<service><name>a</name><dscp>64</dscp><description>kept</description></service>'), 'merge', true);
    expect(errors).toHaveLength(1);
    expect(t.services.service[0]).toMatchObject({ dscp: 1, description: 'kept' });
  });
});
