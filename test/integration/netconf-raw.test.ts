/**
 * Raw bytes against the NETCONF server over its unix socket (the local
 * transport the TUI and vcn command use): base:1.0 and base:1.1 framing,
 * malformed XML, wrong root, missing message-id, bad chunk headers, an
 * oversized message, random garbage. Each gets an rpc-error or closes only
 * its own session; a well-behaved session keeps being served throughout.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNcDaemon, type NcDaemon } from './helpers/netconf-daemon.js';

const BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const hello = (v11: boolean) =>
  `<hello xmlns="${BASE}"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>${v11 ? '<capability>urn:ietf:params:netconf:base:1.1</capability>' : ''}</capabilities></hello>]]>]]>`;
const chunk = (m: string) => `\n#${Buffer.byteLength(m)}\n${m}\n##\n`;

class Raw {
  readonly sock: Socket;
  buf = '';
  closed = false;
  constructor(path: string) {
    this.sock = connect(path);
    this.sock.on('data', (b) => (this.buf += b.toString()));
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('error', () => undefined);
  }
  send(s: string | Buffer) {
    if (!this.closed) this.sock.write(s);
  }
  async waitFor(pred: () => boolean, ms = 3000) {
    const t0 = Date.now();
    while (!pred() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
    return pred();
  }
  /** Replies after the server hello, in order. */
  get replies(): string[] {
    return this.buf.split(/<rpc-reply/).slice(1);
  }
}

describe('NETCONF raw framing and garbage', () => {
  let d: NcDaemon;
  beforeAll(async () => {
    d = await startNcDaemon({ maxMessage: 64 * 1024 });
  });
  afterAll(async () => {
    await d?.stop();
  });

  const good = async () => {
    const c = new Raw(d.socket);
    c.send(hello(false));
    c.send(`<rpc message-id="ok" xmlns="${BASE}"><get-config><source><running/></source></get-config></rpc>]]>]]>`);
    expect(await c.waitFor(() => c.buf.includes('message-id="ok"') && c.buf.includes('<data'))).toBe(true);
    c.sock.destroy();
  };

  it('base:1.0: malformed XML, wrong root, missing message-id and unknown namespace get rpc-errors; the session goes on', async () => {
    const c = new Raw(d.socket);
    expect(await c.waitFor(() => c.buf.includes('<session-id>'))).toBe(true);
    c.send(hello(false));
    c.send('<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get>]]>]]>');
    c.send('<notrpc xmlns="urn:x"/>]]>]]>');
    c.send(`<rpc xmlns="${BASE}"><get/></rpc>]]>]]>`);
    c.send('<rpc message-id="2" xmlns="urn:wrong"><get/></rpc>]]>]]>');
    c.send('<!DOCTYPE x [<!ENTITY a "b">]><rpc message-id="3" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>]]>]]>');
    c.send(`<rpc message-id="4" xmlns="${BASE}"><get-config><source><running/></source></get-config></rpc>]]>]]>`);
    expect(await c.waitFor(() => c.replies.length >= 6)).toBe(true);
    const [r1, r2, r3, r4, r5, r6] = c.replies;
    expect(r1).toContain('<error-tag>malformed-message</error-tag>');
    expect(r2).toContain('<error-tag>malformed-message</error-tag>');
    expect(r3).toContain('<error-tag>missing-attribute</error-tag>');
    expect(r4).toContain('<error-tag>unknown-namespace</error-tag>');
    expect(r5).toContain('<error-tag>malformed-message</error-tag>');
    expect(r6).toContain('message-id="4"');
    expect(r6).toContain('<data>');
    expect(c.closed).toBe(false);
    c.sock.destroy();
  });

  it('base:1.1: chunked rpcs work; a bad chunk header closes only that session', async () => {
    const c = new Raw(d.socket);
    c.send(hello(true));
    const rpc = `<rpc message-id="c1" xmlns="${BASE}"><get-config><source><running/></source></get-config></rpc>`;
    // one message split into two chunks, sent byte by byte in two writes
    c.send(`\n#10\n${rpc.slice(0, 10)}`);
    c.send(`\n#${rpc.length - 10}\n${rpc.slice(10)}\n##\n`);
    expect(await c.waitFor(() => c.buf.includes('message-id="c1"'))).toBe(true);
    expect(c.buf).toMatch(/\n#\d+\n<rpc-reply/);
    c.send('\n#abc\n<rpc/>\n##\n');
    expect(await c.waitFor(() => c.closed)).toBe(true);
    await good();
  });

  it('an oversized message gets too-big and closes that session', async () => {
    const c = new Raw(d.socket);
    c.send(hello(false));
    c.send(`<rpc message-id="big" xmlns="${BASE}"><get>${'x'.repeat(100 * 1024)}`);
    expect(await c.waitFor(() => c.closed)).toBe(true);
    expect(c.buf).toContain('<error-tag>too-big</error-tag>');
    await good();
  });

  it('deep nesting gets too-big and the session goes on; 200 pipelined rpcs are answered in order', async () => {
    const c = new Raw(d.socket);
    c.send(hello(true));
    const deep = `<rpc message-id="deep" xmlns="${BASE}"><get-config><source><running/></source><filter>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</filter></get-config></rpc>`;
    c.send(chunk(deep));
    const many = Array.from({ length: 200 }, (_, i) => chunk(`<rpc message-id="p${i}" xmlns="${BASE}"><get-config><source><running/></source></get-config></rpc>`)).join('');
    c.send(many);
    expect(await c.waitFor(() => c.buf.includes('message-id="p199"'), 20_000)).toBe(true);
    const r = c.replies;
    expect(r[0]).toContain('<error-tag>too-big</error-tag>');
    expect(r[0]).toContain('nested deeper');
    expect(r.slice(1).map((x) => /message-id="(p\d+)"/.exec(x)?.[1])).toEqual(Array.from({ length: 200 }, (_, i) => `p${i}`));
    expect(c.closed).toBe(false);
    c.sock.destroy();
  });

  it('an rpc with two operations or none; a chunk larger than the limit gets too-big and closes the session', async () => {
    const c = new Raw(d.socket);
    c.send(hello(true));
    c.send(chunk(`<rpc message-id="two" xmlns="${BASE}"><get/><get-config><source><running/></source></get-config></rpc>`));
    c.send(chunk(`<rpc message-id="none" xmlns="${BASE}"/>`));
    expect(await c.waitFor(() => c.replies.length >= 2)).toBe(true);
    expect(c.replies[0]).toContain('<error-tag>unknown-element</error-tag>');
    expect(c.replies[0]).toContain('<bad-element>get-config</bad-element>');
    expect(c.replies[1]).toContain('<error-tag>missing-element</error-tag>');
    // 4 GiB announced: refused at once, nothing buffered
    c.send('\n#4294967295\n<rpc');
    expect(await c.waitFor(() => c.closed)).toBe(true);
    expect(c.replies[2]).toContain('<error-tag>too-big</error-tag>');
    await good();
  });

  it('a session that sends no proper hello is closed', async () => {
    const c = new Raw(d.socket);
    c.send(`<rpc message-id="1" xmlns="${BASE}"><get/></rpc>]]>]]>`);
    expect(await c.waitFor(() => c.closed)).toBe(true);
    await good();
  });

  it('thousands of random and mutated frames: the daemon keeps serving a well-behaved session', async () => {
    const samples = [
      hello(true),
      chunk(`<rpc message-id="m" xmlns="${BASE}"><get/></rpc>`),
      chunk(`<rpc message-id="m" xmlns="${BASE}"><edit-config><target><candidate/></target><config><services xmlns="urn:vcn:appliance"><service><name>x</name><dscp>7</dscp></service></services></config></edit-config></rpc>`),
      chunk(`<rpc message-id="m" xmlns="${BASE}"><lock><target><candidate/></target></lock></rpc>`),
    ];
    const mutate = (s: string) => {
      const b = Buffer.from(s);
      for (let i = 0; i < 1 + (b.length >> 6); i++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      return b;
    };
    for (let round = 0; round < 40; round++) {
      const c = new Raw(d.socket);
      for (let i = 0; i < 60; i++) {
        const pick = Math.random();
        c.send(pick < 0.3 ? randomBytes(1 + Math.floor(Math.random() * 200)) : pick < 0.8 ? mutate(samples[Math.floor(Math.random() * samples.length)]) : samples[Math.floor(Math.random() * samples.length)]);
      }
      if (round % 10 === 9) await good();
      c.sock.destroy();
    }
    await good();
    // No session is left holding a lock.
    await new Promise((r) => setTimeout(r, 200));
    expect([...d.daemon.netconf!.server.locks.keys()]).toEqual([]);
  });
});
