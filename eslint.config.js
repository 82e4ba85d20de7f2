import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { layerRule } from './lint/layer-rule.js';

const root = path.dirname(fileURLToPath(import.meta.url));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test/fixtures/lint/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { vcn: { rules: { layers: layerRule } } },
    rules: {
      'vcn/layers': ['error', { root }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]",
          message: 'focused tests hide the rest of the suite',
        },
        {
          selector: "CallExpression[callee.property.name='skip'][callee.object.name=/^(it|test|describe)$/]",
          message: 'skipped tests hide failures: use skipIf with a stated reason',
        },
      ],
    },
  },
);
