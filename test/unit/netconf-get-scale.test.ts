/**
 * What makes get-config and edit-config cheap at 10k services must not change
 * their answers: the subtree-filter pre-pass on the tree gives exactly what
 * the filter alone gives; the direct XML writer round-trips through the
 * decoder and escapes text; list edits by key stay linear.
 */
import type { Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { scaleConfig } from '../../bench/scale-config.js';
import { configXml, normalise } from '../../mgmt/netconf/data.js';
import { applyEdit } from '../../mgmt/netconf/edit-tree.js';
import { applyFilter } from '../../mgmt/netconf/filters.js';
import { prune } from '../../mgmt/netconf/filter-prune.js';
import { parseXml } from '../../mgmt/netconf/xml.js';
import { fromXml, toXml } from '../../mgmt/schema/config-codec.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';

const NC = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const filter = (inner: string) => parseXml(`<filter xmlns="${NC}" type="subtree">${inner}</filter>`).documentElement as unknown as Element;

describe('subtree filter pre-pass', () => {
  const tree = normalise(checkConfig(scaleConfig(300)).config);
  tree.services.service[7].acl.rule.push({ seq: 1, action: 'deny', source: '192.0.2.0/24', count: false });
  const V = 'xmlns="urn:vcn:appliance"';
  const cases = [
    `<services ${V}><service><name>svc7</name></service></services>`,
    `<services ${V}><service><name>svc7</name><acl/></service></services>`,
    `<services ${V}><service><customer>cust12</customer><name/></service></services>`,
    `<services ${V}><service><name>svc1</name></service><service><name>svc2</name><port><port>80</port><step/></port></service></services>`,
    `<services ${V}><service><name>nosuch</name></service></services>`,
    `<services ${V}/>`,
    `<services><service><name>svc3</name><service-ip/></service></services>`,
    `<services ${V}><service><port><port>80</port></port><name>svc4</name></service></services>`,
    `<devices ${V}><device><name>srv3</name></device></devices><services ${V}><service><name>svc9</name></service></services>`,
    `<services xmlns="urn:other"><service><name>svc1</name></service></services>`,
    `<services ${V}><service><acl><rule><seq>1</seq></rule></acl></service></services>`,
    `<system ${V}><hostname/></system>`,
  ];
  it.each(cases)('same answer with and without the pre-pass: %s', (f) => {
    const el = filter(f);
    const exact = applyFilter(configXml(tree, 'report-all', { normalised: true }), el);
    const fast = applyFilter(configXml(prune(tree, el), 'report-all', { normalised: true }), el);
    expect(fast).toBe(exact);
  });
  it('cuts a one-service filter down to that service, and leaves the tree unchanged', () => {
    const before = JSON.stringify(tree);
    const p = prune(tree, filter(`<services ${V}><service><name>svc7</name></service></services>`));
    expect(p.services.service.map((s) => s.name)).toEqual(['svc7']);
    expect(JSON.stringify(tree)).toBe(before);
  });
});

describe('XML writer', () => {
  it('round-trips a configuration through the decoder and escapes text', () => {
    const c = checkConfig(scaleConfig(50)).config;
    c.services.service[0].description = 'a <b> & c ]]> "d"';
    const xml = toXml(c as never);
    expect(xml).toContain('<description>a &lt;b&gt; &amp; c ]]&gt; "d"</description>');
    expect(xml).toContain('<acl><default-action>permit</default-action></acl>');
    const back = fromXml(xml);
    expect(back.issues).toEqual([]);
    expect(checkConfig(back.tree).config).toEqual(c);
  });
});

describe('edit-config on big lists', () => {
  it('a replace of 10k entries by key is linear and exact', () => {
    const n = 10_000;
    const tree = checkConfig(scaleConfig(n)).config as unknown as Record<string, unknown>;
    const cfg = parseXml(`<config xmlns="${NC}">${toXml(scaleConfig(n) as never)}</config>`).documentElement as unknown as Element;
    const t0 = performance.now();
    expect(applyEdit(tree, cfg, 'merge', false)).toEqual([]);
    const merged = performance.now() - t0;
    const svc = (tree as { services: { service: { name: string }[] } }).services.service;
    expect(svc).toHaveLength(n);
    expect(new Set(svc.map((s) => s.name)).size).toBe(n);
    // A scan per entry (the old way) took tens of seconds here.
    expect(merged).toBeLessThan(20_000);
  }, 60_000);
});
