/** The store's decoded configurations: equal parts shared, frozen; copies share nothing. */
import { describe, expect, it } from 'vitest';
import { internConfig, unsharedCopy } from '../../mgmt/store/config-intern.js';

const svc = (name: string, device: string) => ({
  name,
  port: [{ port: 80, protocol: 'tcp', step: [{ seq: 1, pool: 'fw', 'copy-to': [] }, { seq: 2, device, 'copy-to': [] }] }],
  acl: { 'default-action': 'permit', rule: [] },
});

describe('internConfig', () => {
  it('shares equal parts of different services, keeps different ones apart, freezes everything', () => {
    const c = internConfig({ services: { service: [svc('a', 'd1'), svc('b', 'd1'), svc('c', 'd2')] } });
    const [a, b, cc] = c.services.service;
    expect(a).not.toBe(b);
    expect(a.port).toBe(b.port);
    expect(a.acl).toBe(cc.acl);
    expect(a.port).not.toBe(cc.port);
    expect(a.port[0].step[0]).toBe(cc.port[0].step[0]);
    expect(c).toEqual({ services: { service: [svc('a', 'd1'), svc('b', 'd1'), svc('c', 'd2')] } });
    expect(Object.isFrozen(c.services.service)).toBe(true);
    expect(() => (a.acl.rule as unknown[]).push(1)).toThrow();
  });

  it('an unshared copy is equal, writable, and a change to one service stays there', () => {
    const c = internConfig({ services: { service: [svc('a', 'd1'), svc('b', 'd1')] } });
    const copy = unsharedCopy(c);
    expect(copy).toEqual(c);
    (copy.services.service[0].acl.rule as unknown[]).push({ seq: 10 });
    expect(copy.services.service[1].acl.rule).toEqual([]);
    expect(c.services.service[0].acl.rule).toEqual([]);
  });
});
