/** Checks of leaf values against their YANG types (RFC 7950 built-ins and the imported typedefs we use). */
import { isIP } from 'node:net';
import type { LeafType } from './schema-types.js';

export interface ValueProblem {
  code: 'SCHEMA_TYPE' | 'SCHEMA_RANGE' | 'SCHEMA_LENGTH' | 'SCHEMA_PATTERN' | 'SCHEMA_ENUM';
  message: string;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const patternCache = new Map<string, RegExp>();

/** XSD patterns are implicitly anchored; the ones in our module are also valid JS regexes. */
function xsdRegex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

export function isIpPrefix(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(value.slice(0, slash));
  const len = value.slice(slash + 1);
  if (!family || !/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

const within = (n: number, intervals: [number, number][]) => intervals.some(([lo, hi]) => n >= lo && n <= hi);
const show = (intervals: [number, number][]) => intervals.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}..${hi}`)).join(' | ');

const UINT_BOUNDS: Partial<Record<LeafType['base'], [number, number]>> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  'port-number': [0, 65535],
};

/**
 * Parses a value as found in RFC 7951 JSON or in XML text (numbers may come as
 * strings from XML) and returns the canonical JSON value, or a problem.
 */
export function checkValue(type: LeafType, raw: unknown): { value: unknown } | ValueProblem {
  const label = (type.typedef ?? type.base).replace(/^[\w-]+:/, '');
  switch (type.base) {
    case 'boolean': {
      if (raw === true || raw === 'true') return { value: true };
      if (raw === false || raw === 'false') return { value: false };
      return { code: 'SCHEMA_TYPE', message: `'${String(raw)}' is not a boolean (true or false)` };
    }
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'port-number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      const bounds = UINT_BOUNDS[type.base]!;
      if (!Number.isInteger(n) || n < bounds[0] || n > bounds[1]) {
        return { code: 'SCHEMA_TYPE', message: `'${String(raw)}' is not a ${label} (${bounds[0]}..${bounds[1]})` };
      }
      if (type.range && !within(n, type.range)) {
        return { code: 'SCHEMA_RANGE', message: `${n} is outside the allowed range ${show(type.range)}` };
      }
      return { value: n };
    }
    default:
      break;
  }
  if (typeof raw !== 'string') {
    return { code: 'SCHEMA_TYPE', message: `expected a string (${label}), got ${JSON.stringify(raw)}` };
  }
  const value = raw;
  switch (type.base) {
    case 'enumeration':
      if (!type.enums!.includes(value)) {
        return { code: 'SCHEMA_ENUM', message: `'${value}' is not one of ${type.enums!.join(', ')}` };
      }
      return { value };
    case 'ip-address':
      if (!isIP(value)) return { code: 'SCHEMA_TYPE', message: `'${value}' is not an IPv4 or IPv6 address` };
      return { value };
    case 'ip-prefix':
      if (!isIpPrefix(value)) return { code: 'SCHEMA_TYPE', message: `'${value}' is not an IP prefix (address/length)` };
      return { value };
    case 'mac-address':
      if (!MAC.test(value)) return { code: 'SCHEMA_TYPE', message: `'${value}' is not a MAC address (xx:xx:xx:xx:xx:xx)` };
      return { value: value.toLowerCase() };
    default:
      break;
  }
  if (type.length && !within([...value].length, type.length)) {
    return { code: 'SCHEMA_LENGTH', message: `'${value}' has ${[...value].length} characters; allowed: ${show(type.length)}` };
  }
  for (const p of type.pattern ?? []) {
    if (!xsdRegex(p).test(value)) return { code: 'SCHEMA_PATTERN', message: `'${value}' does not match the pattern ${p}` };
  }
  return { value };
}
