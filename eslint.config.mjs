// Typed linting for the whole project. Workflow code and the shared module it imports run in
// Temporal's deterministic sandbox, so Node built-ins and Node-only packages are banned there.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

const sandboxRestrictions = {
  paths: [
    ...nodeBuiltins.map((name) => ({
      name,
      message: 'Workflow code runs in a deterministic sandbox: Node built-ins belong in activities or src/.',
    })),
    ...[
      'nodemailer',
      'express',
      'mailparser',
      'nunjucks',
      'smtp-server',
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/activity',
      '@temporalio/testing',
    ].map((name) => ({
      name,
      message: 'Node-only package: keep it out of workflow code and src/shared (workflows reach it through activities).',
    })),
  ],
  patterns: [
    { group: ['node:*'], message: 'Workflow code runs in a deterministic sandbox: Node built-ins belong in activities or src/.' },
    {
      group: ['nodemailer/*', 'express/*', 'mailparser/*', 'nunjucks/*', 'smtp-server/*', '@temporalio/client/*', '@temporalio/worker/*', '@temporalio/activity/*', '@temporalio/testing/*'],
      message: 'Node-only package: not allowed in workflow code.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'var/', 'dist/', 'coverage/', 'test-artifacts/', '.temporal/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // CommonJS project: `require.resolve` and `require.main === module` are the idiom here.
      '@typescript-eslint/no-require-imports': 'off',
      // Input validation matches control characters on purpose, to refuse them.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'src/shared/**/*.ts', 'bench/baseline/workflows.ts'],
    rules: { 'no-restricted-imports': ['error', sandboxRestrictions] },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    // CommonJS scripts (the jest config and reporter) load their modules with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
  },
  {
    // Scripts served to the browser.
    files: ['src/web/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly', fetch: 'readonly', URL: 'readonly', FormData: 'readonly', HTMLElement: 'readonly', Event: 'readonly' },
    },
  },
);
