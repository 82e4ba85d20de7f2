/**
 * ESLint rule: imports point down the layers only, cli → mgmt → appliance
 * (ARCHITECTURE.md). A file may import its own layer or a lower one; test/ and
 * scripts/ may import anything.
 */
import path from 'node:path';

const LAYERS = ['appliance', 'mgmt', 'cli'];

function layerOf(file, root) {
  const rel = path.relative(root, file).split(path.sep);
  return LAYERS.indexOf(rel[0]);
}

export const layerRule = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the dependency direction cli → mgmt → appliance' },
    messages: {
      upward: "'{{from}}' must not import '{{source}}': {{fromLayer}} sits below {{toLayer}} (cli → mgmt → appliance).",
    },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    const from = layerOf(file, root);
    if (from < 0) return {};
    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = layerOf(target, root);
      if (to > from) {
        context.report({
          node,
          messageId: 'upward',
          data: { from: path.relative(root, file), source, fromLayer: LAYERS[from], toLayer: LAYERS[to] },
        });
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
