/**
 * Frames for the NETCONF fuzz test: valid requests, and requests broken in
 * every way the server must survive — random bytes, mutated bytes, truncated
 * and oversized chunks, bad chunk headers, invalid XML, wrong namespaces,
 * unknown elements, deep nesting, entity tricks, oversized messages. A seeded
 * PRNG makes a failing run reproducible (the test prints the seed).
 */
const BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const VCN = 'urn:vcn:appliance';

export type Rng = () => number;

/** mulberry32: small, fast, good enough for fuzzing. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)];

export const hello = (v11: boolean) =>
  `<hello xmlns="${BASE}"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>${v11 ? '<capability>urn:ietf:params:netconf:base:1.1</capability>' : ''}</capabilities></hello>`;

const rpc = (body: string, id: string | number = 1, ns = BASE) => `<rpc message-id="${id}" xmlns="${ns}">${body}</rpc>`;
const svcEdit = (inner: string) => `<edit-config><target><candidate/></target><config><services xmlns="${VCN}"><service><name>fz</name>${inner}</service></services></config></edit-config>`;

/** Requests a well-behaved client might send (some fail validation: that is an rpc-error, not a fault). */
const VALID = [
  rpc('<get-config><source><running/></source></get-config>'),
  rpc('<get-config><source><candidate/></source></get-config>'),
  rpc(`<get-config><source><running/></source><filter type="subtree"><services xmlns="${VCN}"><service><name>svc1</name></service></services></filter></get-config>`),
  rpc(`<get><filter type="xpath" xmlns:v="${VCN}" select="/v:services/v:service[v:name='svc0']/v:service-ip"/></get>`),
  rpc('<get/>'),
  rpc('<lock><target><candidate/></target></lock>'),
  rpc('<unlock><target><candidate/></target></unlock>'),
  rpc('<lock><target><running/></target></lock>'),
  rpc('<unlock><target><running/></target></unlock>'),
  rpc(svcEdit('<dscp>7</dscp>')),
  rpc(svcEdit('<dscp>700</dscp>')),
  rpc(svcEdit('<service-ip>10.250.0.1</service-ip><port><port>80</port><step><seq>1</seq><device>srv0</device></step></port>')),
  rpc('<validate><source><candidate/></source></validate>'),
  rpc('<discard-changes/>'),
  rpc('<commit/>'),
  rpc('<commit><confirmed/><confirm-timeout>1</confirm-timeout></commit>'),
  rpc('<cancel-commit/>'),
  rpc(`<get-schema xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><identifier>vcn</identifier></get-schema>`),
  rpc(`<compare xmlns="${VCN}"><from>running</from><to>candidate</to></compare>`),
  rpc(`<commit-history xmlns="${VCN}"><limit>3</limit></commit-history>`),
  rpc('<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>'),
  rpc('<kill-session><session-id>999999</session-id></kill-session>'),
  rpc('<copy-config><target><candidate/></target><source><running/></source></copy-config>'),
];

/** Well-formed but wrong: namespaces, unknown elements and operations, bad values, missing attributes. */
const WRONG = [
  rpc('<get-config><source><running/></source></get-config>', 1, 'urn:wrong'),
  rpc('<get-config xmlns="urn:other"><source><running/></source></get-config>'),
  rpc(`<edit-config><target><candidate/></target><config><services xmlns="urn:nope"><service><name>x</name></service></services></config></edit-config>`),
  rpc('<frobnicate/>'),
  rpc('<get-config><source><running/></source><colour>red</colour></get-config>'),
  rpc(svcEdit('<colour>red</colour>')),
  rpc(svcEdit('<dscp>seven</dscp>')),
  rpc(svcEdit('<acl><rule nc:operation="explode" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><seq>1</seq></rule></acl>')),
  rpc('<get-config><source><nowhere/></source></get-config>'),
  rpc('<get-config/>'),
  rpc('<edit-config><target><running/></target><config/></edit-config>'),
  `<rpc xmlns="${BASE}"><get/></rpc>`,
  `<notrpc xmlns="${BASE}"/>`,
  rpc('<get/><get/>'),
  rpc(''),
  rpc('<get><filter type="xpath" select="///[[["/></get>'),
  rpc('<get><filter type="regex"/></get>'),
  rpc(`<commit><confirmed/><confirm-timeout>-5</confirm-timeout></commit>`),
  rpc(`<rollback xmlns="${VCN}"><commit-id>999999</commit-id></rollback>`),
  rpc('<get-config><source><running/></source><with-defaults xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults">explicit-ish</with-defaults></get-config>'),
  `<hello xmlns="${BASE}"><capabilities/></hello>`,
];

/** Not well-formed XML, or XML the server refuses before looking at it. */
const BROKEN = [
  `<rpc message-id="1" xmlns="${BASE}"><get>`,
  `<rpc message-id="1" xmlns="${BASE}"><get></rpc>`,
  `<rpc message-id="1" xmlns="${BASE}"><p:get/></rpc>`,
  `<rpc message-id=1 xmlns="${BASE}"/>`,
  `<rpc message-id="1" message-id="2" xmlns="${BASE}"/>`,
  `<rpc message-id="1" xmlns="${BASE}">&undefined;</rpc>`,
  `<rpc message-id="1" xmlns="${BASE}">\u0000</rpc>`,
  `<!DOCTYPE rpc [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rpc message-id="1" xmlns="${BASE}">&c;</rpc>`,
  `<?xml version="1.0"?><?xml version="1.0"?><rpc/>`,
  `<rpc message-id="1" xmlns="${BASE}"/><rpc message-id="2" xmlns="${BASE}"/>`,
  `text only`,
  ``,
  `<![CDATA[x]]>`,
  `<rpc message-id="1" xmlns="${BASE}"><get></get></rpc><`,
  `<rpc message-id="1" xmlns:="${BASE}"/>`,
  `<rpc message-id="1" xmlns="${BASE}" xmlns:xml="urn:bad"/>`,
];

/** Every wrong and broken message once, and one nested too deep: each gets exactly one rpc-error. */
export const CATALOGUE: readonly string[] = [...WRONG.filter((m) => !m.startsWith('<hello')), ...BROKEN.filter((m) => m !== ''), rpc(`<get>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</get>`)];

function deep(r: Rng): string {
  const n = 65 + int(r, r() < 0.2 ? 40_000 : 500);
  return rpc(`<get-config><source><running/></source><filter>${'<a>'.repeat(n)}${'</a>'.repeat(n)}</filter></get-config>`);
}

function wide(r: Rng): string {
  // Many elements, each cheap: under the message limit; the server parses it and answers.
  return rpc(`<get-config><source><running/></source><filter>${'<a/>'.repeat(1000 + int(r, 20_000))}</filter></get-config>`);
}

function bigAttr(r: Rng): string {
  return rpc(`<get-config a="${'x'.repeat(int(r, 200_000))}"><source><running/></source></get-config>`);
}

function mutate(r: Rng, s: string | Buffer): Buffer {
  const b = Buffer.from(s);
  const kind = int(r, 5);
  if (kind === 0 || b.length < 4) {
    for (let i = 0; i < 1 + int(r, 1 + (b.length >> 5)); i++) b[int(r, b.length)] = int(r, 256);
    return b;
  }
  if (kind === 1) return b.subarray(0, int(r, b.length)); // truncated
  if (kind === 2) {
    const at = int(r, b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, ['<', '>', '&', '"', ']]>]]>', '\n#', '\n##\n', '<a>', '\u00ff', 'xmlns="urn:x"'])), b.subarray(at)]);
  }
  if (kind === 3) {
    const from = int(r, b.length);
    const len = int(r, b.length - from);
    return Buffer.concat([b.subarray(0, from), b.subarray(from + len)]); // a piece cut out
  }
  const from = int(r, b.length);
  return Buffer.concat([b.subarray(0, from), b.subarray(from), b.subarray(from)]); // a piece repeated
}

export const eom = (m: string | Buffer) => Buffer.concat([Buffer.from(m), Buffer.from(']]>]]>')]);
export const chunked = (m: string | Buffer) => {
  const b = Buffer.from(m);
  return Buffer.concat([Buffer.from(`\n#${b.length}\n`), b, Buffer.from('\n##\n')]);
};

/** Chunk-level abuse (base:1.1): bad sizes, truncated chunks, huge sizes, missing ends. */
function chunkAbuse(r: Rng, body: string): Buffer {
  const b = Buffer.from(body);
  switch (int(r, 9)) {
    case 0:
      return Buffer.from(`\n#${pick(r, ['0', '-1', '01', 'abc', '', ' 5', '99999999999', '4294967296', '1e3', '0x10'])}\n${body}\n##\n`);
    case 1: // the header says more than is sent; the next message's header becomes data
      return Buffer.concat([Buffer.from(`\n#${b.length + 1 + int(r, 100)}\n`), b]);
    case 2: // the header says less than is sent
      return Buffer.concat([Buffer.from(`\n#${Math.max(1, b.length - 1 - int(r, 10))}\n`), b, Buffer.from('\n##\n')]);
    case 3: // a huge size: refused by the message limit, nothing allocated
      return Buffer.from(`\n#${pick(r, ['4294967295', '2000000000', '16777217', '1048577'])}\n${body}`);
    case 4: // many small chunks
      return Buffer.concat([...Array.from({ length: b.length }, (_, i) => Buffer.concat([Buffer.from('\n#1\n'), b.subarray(i, i + 1)])), Buffer.from('\n##\n')]);
    case 5: // end of chunks without a chunk
      return Buffer.from('\n##\n');
    case 6: // no end of chunks: runs into the next message
      return Buffer.concat([Buffer.from(`\n#${b.length}\n`), b]);
    case 7: // end-of-message framing inside a chunked session
      return eom(body);
    default: // garbage between chunks
      return Buffer.concat([Buffer.from(`\n#${b.length}\n`), b, Buffer.from(`${pick(r, ['x', '\n#', '\n#\n', '##', '\n###\n'])}\n##\n`)]);
  }
}

export interface FuzzPlan {
  /** Frames of one fuzz connection, the first being its hello (or not). */
  frames: Buffer[];
  v11: boolean;
  /** Whether frames may break the framing itself (that closes the session at once). */
  framingFaults: boolean;
}

/** A frame that is properly framed whatever it holds: the session survives it. */
function framedFrame(r: Rng, wrap: (m: string | Buffer) => Buffer): Buffer {
  const p = r();
  if (p < 0.12) return wrap(Buffer.from(Array.from({ length: 1 + int(r, 300) }, () => int(r, 256)).filter((b) => b !== 0x5d))); // no ']' : no stray end-of-message marker
  if (p < 0.32) return wrap(pick(r, VALID));
  if (p < 0.55) return wrap(mutate(r, pick(r, [...VALID, ...WRONG])).filter((b) => b !== 0x5d) as unknown as Buffer);
  if (p < 0.72) return wrap(pick(r, WRONG));
  if (p < 0.86) return wrap(pick(r, BROKEN));
  if (p < 0.95) return wrap(deep(r));
  return wrap(r() < 0.5 ? wide(r) : bigAttr(r));
}

/** A frame that may break the framing (the session is closed when it does). */
function framingFrame(r: Rng, v11: boolean, wrap: (m: string | Buffer) => Buffer): Buffer {
  const p = r();
  if (p < 0.3) return Buffer.from(Array.from({ length: 1 + int(r, 300) }, () => int(r, 256)));
  if (p < 0.6) return mutate(r, wrap(pick(r, VALID)));
  if (p < 0.9) return v11 ? chunkAbuse(r, pick(r, VALID)) : mutate(r, eom(pick(r, VALID)));
  return wrap(pick(r, VALID)).subarray(0, 1 + int(r, 40)); // a message cut short
}

/**
 * One connection's worth of frames: a hello (usually valid), then `count`
 * frames in the session's framing. Most connections keep the framing intact
 * so that their content reaches the XML and operation layers (invalid XML,
 * wrong namespaces, unknown elements, deep nesting …) and end with one frame
 * that may break the framing; the others break the framing anywhere. An
 * oversized message, when drawn, is last (it ends the session).
 */
export function connectionFrames(r: Rng, count: number, maxMessage: number): FuzzPlan {
  const v11 = r() < 0.7;
  const framingFaults = r() < 0.3;
  const frames: Buffer[] = [];
  const h = r() < 0.9 ? hello(v11) : mutate(r, hello(v11));
  frames.push(r() < 0.03 ? Buffer.from(h) : eom(h));
  const wrap = (m: string | Buffer) => (v11 ? chunked(m) : eom(m));
  for (let i = 0; i < count; i++) frames.push(framingFaults && r() < 0.4 ? framingFrame(r, v11, wrap) : framedFrame(r, wrap));
  if (r() < 0.1) {
    // Oversized: more than the server accepts in one message.
    const pad = `<!--${'p'.repeat(maxMessage + 1024)}-->`;
    frames.push(wrap(rpc(`<get/>${pad}`)));
  } else if (r() < 0.4) frames.push(framingFrame(r, v11, wrap));
  return { frames, v11, framingFaults };
}
