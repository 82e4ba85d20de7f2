/**
 * Every error the product reports carries a code from this registry and a human
 * message; validation errors also carry the path of the offending node.
 */
/** Errors in a configuration: each names the node at fault (ValidationIssue.path). */
export const CONFIG_ERROR_CODES = {
  // Schema (structure and types), derived from the YANG module.
  SCHEMA_UNKNOWN_NODE: 'the node is not in the schema',
  SCHEMA_TYPE: 'the value does not have the type the schema requires',
  SCHEMA_RANGE: 'the number is outside the allowed range',
  SCHEMA_LENGTH: 'the string length is outside the allowed range',
  SCHEMA_PATTERN: 'the string does not match the allowed pattern',
  SCHEMA_ENUM: 'the value is not one of the allowed names',
  SCHEMA_MANDATORY: 'a mandatory node is missing',
  SCHEMA_DUPLICATE_KEY: 'two list entries have the same key',
  SCHEMA_MIN_ELEMENTS: 'too few entries',
  SCHEMA_MAX_ELEMENTS: 'too many entries',
  SCHEMA_CHOICE: 'nodes of two cases of one choice are set',
  UNKNOWN_DEVICE: 'the device does not exist',
  UNKNOWN_POOL: 'the pool does not exist',
  UNKNOWN_INTERFACE: 'the interface does not exist',
  UNKNOWN_PACKAGE: 'the package does not exist',
  // Semantics of a configuration.
  AMBIGUOUS_STEP: 'two steps would be classified by the same key',
  PORT_RANGE_OVERLAP: 'port ranges of one service address overlap',
  PORT_RANGE_INVALID: 'a port range is empty or conflicts with translation',
  MAC_REQUIRED: 'a device reached by MAC has no MAC',
  IP_REQUIRED: 'a device reached by IP has no IP',
  MIXED_ADDRESS_FAMILY: 'IPv4 and IPv6 addresses are mixed in one chain',
  DUPLICATE_SERVICE_ADDRESS: 'two services claim the same service address',
  SERVICE_SELECTOR_MISSING: 'a service has neither a service IP nor a source key',
  SERVER_IP_MISMATCH: 'a server-ip device does not own the service IP',
  STEP_NOT_LAST: 'a device that ends a chain is placed before another step',
  CHAIN_END_INVALID: 'the last step of a chain does not lead to a server or router',
  TRANSLATE_NOT_LAST: 'port translation is only allowed on the last step',
  TAP_MODE: 'a copy target must be a transparent device',
  LEG_COUNT: 'the device has the wrong number of legs for its delivery mode',
  LEG_ON_MANAGEMENT: 'a device leg is on the management interface',
  POOL_MISMATCH: 'a pool member is not of the pool function or vendor',
  UPLINK_REQUIRED: 'the service needs an uplink interface',
  ROUTER_REQUIRED: 'the device must be in delivery mode router',
} as const;

/** Errors of operations: reading input, the store, transactions. */
export const OPERATION_ERROR_CODES = {
  CONFIG_READ: 'the configuration file cannot be read or parsed',
  // Store and transactions (mgmt/store, mgmt/northbound).
  STORE_OPEN: 'the configuration store cannot be opened',
  STORE_CORRUPT: 'the configuration store fails its integrity check',
  STORE_VERSION: 'the configuration store was written by a newer version',
  STALE_CANDIDATE: 'the candidate was based on an older running configuration',
  COMMIT_IN_PROGRESS: 'another commit is in progress',
  NO_SUCH_COMMIT: 'the commit is not in the history',
  NO_SUCH_SESSION: 'the session does not exist',
  CONFIRMED_COMMIT_PENDING: 'a confirmed commit waits for its confirmation',
  NO_PENDING_CONFIRM: 'no confirmed commit waits for confirmation',
  CONFIG_INVALID: 'the configuration fails validation',
  PREPARE_FAILED: 'the configuration cannot be compiled into a ruleset',
  NFT_CHECK_FAILED: 'the kernel rejects the ruleset (nft -c)',
  APPLY_FAILED: 'the kernel did not load the ruleset; the running one is unchanged',
  POOL_EXHAUSTED: 'the service IP pool has no free address',
  UNKNOWN_SERVICE_IP_POOL: 'the service IP pool does not exist',
  PROVISION_INVALID: 'the provisioning request does not fit the package',
  // NETCONF server (mgmt/netconf): error-app-tag of rpc-errors that no configuration issue explains.
  NETCONF_MALFORMED: 'the NETCONF message is not well-formed XML or not an rpc',
  NETCONF_TOO_BIG: 'the NETCONF message exceeds the maximum message size',
  NETCONF_UNKNOWN_OPERATION: 'the rpc names an operation the server does not know',
  NETCONF_UNKNOWN_ELEMENT: 'the rpc has an element the operation does not take',
  NETCONF_UNKNOWN_NAMESPACE: 'an element is in a namespace the server does not know',
  NETCONF_MISSING_ELEMENT: 'the rpc lacks an element the operation needs',
  NETCONF_MISSING_ATTRIBUTE: 'the rpc lacks an attribute the operation needs',
  NETCONF_BAD_VALUE: 'a parameter of the rpc has a value the server does not accept',
  NETCONF_NOT_SUPPORTED: 'the operation is not supported on that datastore or with those parameters',
  NETCONF_LOCKED: 'another session holds the lock on the datastore',
  NETCONF_ACCESS_DENIED: 'the user may not do this (NACM)',
  NETCONF_DATA_EXISTS: 'create of a node that already exists',
  NETCONF_DATA_MISSING: 'delete of a node that does not exist',
  NETCONF_NO_SUCH_SESSION: 'the NETCONF session does not exist',
  NETCONF_AUTH_FAILED: 'the user name or password is wrong',
  // SNMP (mgmt/snmp) and accounting (mgmt/accounting).
  SNMP_SECRET: 'an SNMP pass phrase has a character snmpd.conf cannot carry',
  SNMP_TRAP: 'a trap destination lacks its community or user',
  SNMPD_START: 'snmpd did not start',
  DNSMASQ_START: 'dnsmasq did not start',
  NO_SUCH_NAME: 'no such service name',
  PROBE_FAILED: 'the server mode probe could not run',
  ACCOUNTING_RANGE: 'the accounting time range is not valid',
  // Health checking and service operations (mgmt/health).
  NO_SUCH_DEVICE: 'the device does not exist',
  NO_SUCH_SERVICE: 'the service does not exist',
  HEALTH_OFF: 'health checking does not run in this daemon',
  HEALTH_NOT_FAILED: 'the device is not failed over',
  HEALTH_DEVICE_DOWN: 'the device still fails its health check',
  TRACE_FAILED: 'the trace could not be run',
} as const;

export const ERROR_CODES = { ...CONFIG_ERROR_CODES, ...OPERATION_ERROR_CODES };

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ValidationIssue {
  code: ErrorCode;
  /** Schema instance path, e.g. /services/service[name='web']/port[port='80']. */
  path: string;
  message: string;
}

export class VcnError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
    this.name = 'VcnError';
  }
}

export function formatIssue(issue: ValidationIssue): string {
  return `${issue.code} ${issue.path}: ${issue.message}`;
}
