/**
 * ESLint (flat config): the recommended rules of ESLint and typescript-eslint on the code,
 * with eslint-config-prettier last so no rule argues with the formatter. Not type-aware:
 * typescript-eslint's type-checked rules took about two minutes on this tree (2 shared
 * cores), against about 30 s without. `npm run lint` runs
 * it with Prettier, knip and the dependency rules (see CONTRIBUTING.md).
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import rulesOfHooks from './eslint-rules/rules-of-hooks.js';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'var/', 'bench/results/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  { files: ['web/src/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    // The hooks rule of eslint-plugin-react-hooks, kept here until that plugin is a dependency.
    files: ['web/src/**/*.{ts,tsx}'],
    plugins: { console: { rules: { 'rules-of-hooks': rulesOfHooks } } },
    rules: { 'console/rules-of-hooks': 'error' },
  },
  {
    rules: {
      // `_name` marks what is unused on purpose (an Express error handler's fourth argument, a
      // property taken out of an object by destructuring so the rest can be passed on).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // On Node 20 one AsyncLocalStorage.run (or any async hook) turns on promise hooks for the
    // whole process, and every promise of every door then costs about three times as much
    // (measured: ten awaits took 1.3 µs of CPU before one run, 4.1 µs after).
    files: ['src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        ...['node:async_hooks', 'async_hooks'].map((name) => ({
          name,
          message: 'async hooks slow every promise of the process on Node 20; pass the state explicitly (see src/oidc/client-assigned.ts)',
        })),
      ],
    },
  },
  {
    // Tests read JSON answers and poke at objects on purpose (a malformed token, a stubbed
    // socket); spelling a type for each would restate the code under test and catch nothing.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
