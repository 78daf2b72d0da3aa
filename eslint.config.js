import tseslint from 'typescript-eslint';

// `npm run lint` runs this (with knip and prettier --check; see DEVELOPING.md). Type-aware: one program for
// the whole tree (tsconfig.lint.json), so promise rules see every package's types.
export default tseslint.config(
  {
    // what the .gitignore files ignore (ESLint does not read them: build/ holds bundles), fixtures, generated code, bin shims
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/build/**',
      '**/coverage/**',
      '**/.forklift-test/**',
      'bench/out/**',
      '.tap/**',
      '**/fixtures/**',
      'packages/contract/generated/**',
      '**/bin/*.js',
      'eslint.config.js',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
          allowForKnownSafeCalls: [{ from: 'package', name: 'expect', package: '@forklift/expect-run' }],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-duplicate-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-namespace': 'error',
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
);
