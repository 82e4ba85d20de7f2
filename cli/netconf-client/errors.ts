/** Errors a NETCONF client sees: the daemon refused an rpc, or it could not be reached at all. */

/** One <rpc-error> of a reply (RFC 6241 §4.3). */
export interface RpcErrorInfo {
  type: string;
  tag: string;
  severity: string;
  /** Our error code (error-app-tag), e.g. AMBIGUOUS_STEP. */
  appTag?: string;
  /** The node at fault as an XPath (error-path). */
  path?: string;
  message: string;
}

/** The daemon answered with rpc-error(s). `code` is the first error's app-tag, else its tag. */
export class NetconfRpcError extends Error {
  readonly code: string;
  constructor(readonly errors: RpcErrorInfo[]) {
    super(errors.map(formatRpcError).join('\n') || 'rpc-error');
    this.name = 'NetconfRpcError';
    this.code = errors[0]?.appTag ?? errors[0]?.tag ?? 'RPC_ERROR';
  }
}

/** The socket could not be opened, the hello failed, or the session broke. */
export class NetconfConnectError extends Error {
  constructor(
    message: string,
    readonly code = 'NETCONF_CONNECT',
  ) {
    super(message);
    this.name = 'NetconfConnectError';
  }
}

/** `CODE path: message` — the form the vcn command and the TUI show. */
export function formatRpcError(e: RpcErrorInfo): string {
  return `${e.appTag ?? e.tag}${e.path ? ` ${e.path}` : ''}: ${e.message}`;
}
