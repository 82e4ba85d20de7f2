/** NETCONF framing (RFC 6242): end-of-message and chunked, split anywhere, limits, malformed chunk headers. */
import { describe, expect, it } from 'vitest';
import { Deframer, frame, FramingError } from '../../mgmt/netconf/framing.js';

const all = (d: Deframer) => {
  const out: string[] = [];
  for (let m = d.next(); m !== undefined; m = d.next()) out.push(m);
  return out;
};

describe('NETCONF framing', () => {
  it('base:1.0 messages split at every byte boundary', () => {
    const wire = Buffer.concat([frame('<a/>', false), frame('<b>ü</b>', false)]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new Deframer(1000);
      d.push(wire.subarray(0, cut));
      const got = all(d);
      d.push(wire.subarray(cut));
      expect([...got, ...all(d)]).toEqual(['<a/>', '<b>ü</b>']);
    }
  });

  it('base:1.1 chunked messages, multi-chunk, split at every byte boundary; switch after the hello', () => {
    const wire = Buffer.concat([frame('<hello/>', false), Buffer.from('\n#3\n<a>\n#4\n</a>\n##\n'), frame('<c/>', true)]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new Deframer(1000);
      const got: string[] = [];
      const take = () => {
        for (let m = d.next(); m !== undefined; m = d.next()) {
          got.push(m);
          if (m === '<hello/>') d.useChunked();
        }
      };
      d.push(wire.subarray(0, cut));
      take();
      d.push(wire.subarray(cut));
      take();
      expect(got).toEqual(['<hello/>', '<a></a>', '<c/>']);
    }
  });

  it('refuses bad chunk headers and oversized messages', () => {
    for (const bad of ['\n#0\n', '\n#abc\n', 'xx#1\na', '\n##x', '\n##\n', '\n#12345678901\n', '\n#01\na']) {
      const d = new Deframer(1000);
      d.useChunked();
      d.push(Buffer.from(bad));
      expect(() => all(d), bad).toThrow(FramingError);
    }
    const big = new Deframer(10);
    big.useChunked();
    big.push(Buffer.from('\n#11\n'));
    expect(() => all(big)).toThrow(/exceeds/);
    const eom = new Deframer(10);
    expect(() => eom.push(Buffer.alloc(100, 0x41))).toThrow(/exceeds/);
  });
});
