// ESLint flat config: @eslint/js and typescript-eslint's recommended rules (not the type-checked
// sets, to keep `npm test` fast) plus a 140-column line limit. tsc checks types; this checks the rest.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.run/', '.kube/'] },
  js.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': ['error', {
        code: 140, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true,
      }],
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
  },
  // The chart suite walks parsed YAML of any shape (rendered manifests, values, schemas): any is its honest type there.
  { files: ['test/chart/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // The dashboard's script: plain ES2020 loaded by index.html with a classic <script defer>, not a module.
  {
    files: ['services/facade/dashboard/public/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'script', globals: globals.browser },
  },
  // Node's own files in plain JavaScript: this config (ESM) and mocha's reporter (CommonJS).
  {
    files: ['eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
);
