/**
 * rpc-error (RFC 6241 §4.3, appendix A): the one way the server reports a
 * failure. Configuration issues (appliance/errors.ts ValidationIssue) map to
 * error-tag by their kind; every error carries our code as error-app-tag and
 * the node at fault as an XPath error-path in the module's prefix.
 */
import { VcnError, type ErrorCode, type ValidationIssue } from '../../appliance/errors.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { esc, NS } from './xml.js';

export type ErrorType = 'transport' | 'rpc' | 'protocol' | 'application';

export interface RpcErrorSpec {
  type: ErrorType;
  tag: string;
  severity?: 'error' | 'warning';
  appTag?: ErrorCode | string;
  /** XPath with prefixes vcn: and nc: (declared on the element). */
  path?: string;
  message: string;
  /** Raw XML children of error-info. */
  info?: string;
}

export class RpcError extends Error {
  readonly errors: RpcErrorSpec[];
  constructor(errors: RpcErrorSpec | RpcErrorSpec[]) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list[0]?.message ?? 'rpc-error');
    this.errors = list;
    this.name = 'RpcError';
  }
}

/** Shorthand for a protocol-level error. */
export function rpcError(tag: string, appTag: ErrorCode, message: string, extra: Partial<RpcErrorSpec> = {}): RpcError {
  return new RpcError({ type: 'protocol', tag, appTag, message, ...extra });
}

const TAG_OF_ISSUE: Partial<Record<ErrorCode, string>> = {
  SCHEMA_UNKNOWN_NODE: 'unknown-element',
  SCHEMA_TYPE: 'invalid-value',
  SCHEMA_RANGE: 'invalid-value',
  SCHEMA_LENGTH: 'invalid-value',
  SCHEMA_PATTERN: 'invalid-value',
  SCHEMA_ENUM: 'invalid-value',
  SCHEMA_MANDATORY: 'data-missing',
  UNKNOWN_DEVICE: 'data-missing',
  UNKNOWN_POOL: 'data-missing',
  UNKNOWN_INTERFACE: 'data-missing',
  UNKNOWN_PACKAGE: 'data-missing',
  CONFIG_READ: 'malformed-message',
};

const TAG_OF_OPERATION: Partial<Record<ErrorCode, string>> = {
  COMMIT_IN_PROGRESS: 'in-use',
  CONFIRMED_COMMIT_PENDING: 'in-use',
  NO_SUCH_COMMIT: 'invalid-value',
  NO_SUCH_SESSION: 'invalid-value',
  STALE_CANDIDATE: 'resource-denied',
};

/** Converts a schema instance path (/services/service[name='w']/acl) into an XPath in the vcn prefix. */
export function toXPath(path: string, prefix = VCN_SCHEMA.prefix): string {
  let out = '';
  let quote: string | null = null;
  let startOfName = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (quote) {
      out += c;
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      out += c;
      startOfName = false;
      continue;
    }
    if (c === '/' || c === '[') {
      out += c;
      startOfName = true;
      continue;
    }
    if (startOfName && /[A-Za-z_]/.test(c)) out += `${prefix}:`;
    startOfName = false;
    out += c;
  }
  return out;
}

export function fromIssue(issue: ValidationIssue): RpcErrorSpec {
  const tag = TAG_OF_ISSUE[issue.code] ?? 'operation-failed';
  return { type: 'application', tag, appTag: issue.code, path: issue.path && issue.path !== '/' ? toXPath(issue.path) : undefined, message: issue.message };
}

/** Any thrown value as rpc-errors; unknown exceptions are operation-failed without internals. */
export function toRpcErrors(e: unknown): RpcErrorSpec[] {
  if (e instanceof RpcError) return e.errors;
  if (e instanceof VcnError) {
    if (e.issues.length) return e.issues.map(fromIssue);
    return [{ type: 'application', tag: TAG_OF_OPERATION[e.code] ?? 'operation-failed', appTag: e.code, message: e.message }];
  }
  return [{ type: 'application', tag: 'operation-failed', message: `internal error: ${(e as Error)?.message ?? String(e)}` }];
}

export function rpcErrorXml(s: RpcErrorSpec): string {
  const parts = [
    `<error-type>${s.type}</error-type>`,
    `<error-tag>${esc(s.tag)}</error-tag>`,
    `<error-severity>${s.severity ?? 'error'}</error-severity>`,
  ];
  if (s.appTag) parts.push(`<error-app-tag>${esc(s.appTag)}</error-app-tag>`);
  if (s.path) parts.push(`<error-path xmlns:${VCN_SCHEMA.prefix}="${VCN_SCHEMA.namespace}" xmlns:nc="${NS.base}">${esc(s.path)}</error-path>`);
  parts.push(`<error-message xml:lang="en">${esc(s.message)}</error-message>`);
  if (s.info) parts.push(`<error-info>${s.info}</error-info>`);
  return `<rpc-error>${parts.join('')}</rpc-error>`;
}
