/** Shape of the schema descriptor that generate.ts derives from vcn.yang. */

export type BaseType =
  | 'string'
  | 'boolean'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'enumeration'
  | 'leafref'
  | 'ip-address'
  | 'ip-prefix'
  | 'mac-address'
  | 'port-number';

export interface LeafType {
  base: BaseType;
  /** Inclusive [low, high] intervals a number must fall in. */
  range?: [number, number][];
  /** Inclusive [low, high] intervals of string length. */
  length?: [number, number][];
  /** XSD regular expressions the whole value must match (all of them). */
  pattern?: string[];
  enums?: string[];
  /** Schema path of the leaf a leafref points to, e.g. /devices/device/name. */
  path?: string;
  /** The typedef the type came from, for messages. */
  typedef?: string;
}

export interface ChoiceMember {
  choice: string;
  case: string;
}

export interface LeafNode {
  kind: 'leaf';
  name: string;
  type: LeafType;
  mandatory?: boolean;
  default?: string;
  choice?: ChoiceMember;
  description?: string;
}

export interface LeafListNode {
  kind: 'leaf-list';
  name: string;
  type: LeafType;
  min?: number;
  max?: number;
  orderedByUser?: boolean;
  choice?: ChoiceMember;
  description?: string;
}

export interface ChoiceInfo {
  name: string;
  mandatory?: boolean;
  cases: Record<string, string[]>;
}

export interface ContainerNode {
  kind: 'container';
  name: string;
  presence?: boolean;
  children: SchemaNode[];
  choices?: ChoiceInfo[];
  choice?: ChoiceMember;
  description?: string;
}

export interface ListNode {
  kind: 'list';
  name: string;
  keys: string[];
  min?: number;
  max?: number;
  orderedByUser?: boolean;
  children: SchemaNode[];
  choices?: ChoiceInfo[];
  choice?: ChoiceMember;
  description?: string;
}

export type SchemaNode = LeafNode | LeafListNode | ContainerNode | ListNode;

export interface ModuleSchema {
  module: string;
  namespace: string;
  prefix: string;
  revision: string;
  /** Top-level data nodes. */
  children: SchemaNode[];
}
