/** NETCONF framing (RFC 6242): end-of-message and chunked, split anywhere, limits, malformed chunk headers; XML parsing limits. */
import { describe, expect, it } from 'vitest';
import type { Element } from '@xmldom/xmldom';
import { Deframer, frame, FramingError } from '../../mgmt/netconf/framing.js';
import { MAX_DEPTH, parseXml, serialize, XmlLimitError, XmlSyntaxError } from '../../mgmt/netconf/xml.js';

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

  it('a large message arriving in small reads costs linear time (both framings)', () => {
    const body = `<rpc>${'x'.repeat(8 * 1024 * 1024)}</rpc>`;
    for (const chunked of [false, true]) {
      const wire = chunked ? Buffer.concat([Buffer.from(`\n#${body.length}\n`), Buffer.from(body), Buffer.from('\n##\n')]) : frame(body, false);
      const d = new Deframer(16 * 1024 * 1024);
      if (chunked) d.useChunked();
      const t0 = performance.now();
      const got: string[] = [];
      for (let i = 0; i < wire.length; i += 4096) {
        d.push(wire.subarray(i, i + 4096));
        for (let m = d.next(); m !== undefined; m = d.next()) got.push(m);
      }
      expect(got).toEqual([body]);
      expect(d.buffered).toBe(0);
      // Quadratic copying would take tens of seconds here.
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });
});

describe('NETCONF XML limits', () => {
  it('builds a namespace-aware DOM; refuses DOCTYPEs, unbound prefixes, deep nesting and too many elements', () => {
    const doc = parseXml('<a xmlns="urn:x" xmlns:p="urn:p" p:q="1"><p:b xml:lang="en">t<![CDATA[<x>]]></p:b></a>');
    const b = doc.documentElement!.firstChild as unknown as Element;
    expect(b.namespaceURI).toBe('urn:p');
    expect(b.lookupNamespaceURI('p')).toBe('urn:p');
    expect(b.textContent).toBe('t<x>');
    expect(doc.documentElement!.getAttributeNS('urn:p', 'q')).toBe('1');
    expect(serialize(doc)).toBe('<a xmlns="urn:x" xmlns:p="urn:p" p:q="1"><p:b xml:lang="en">t&lt;x&gt;</p:b></a>');
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<p:a/>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a></b>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a/><b/>')).toThrow(XmlSyntaxError);
    const deep = (n: number) => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;
    expect(() => parseXml(deep(MAX_DEPTH))).not.toThrow();
    expect(() => parseXml(deep(MAX_DEPTH + 1))).toThrow(XmlLimitError);
    expect(() => parseXml(deep(100_000))).toThrow(/nested deeper/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(11)}</a>`, { maxElements: 10 })).toThrow(/more than 10 elements/);
  });
});
