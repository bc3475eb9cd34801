import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** A service never reaches into another service's source: shared code lives in @ticketing/platform. */
const otherServicesSource = {
  regex: '(^|/)(event-service|booking-service|web-app|platform)/src(/|$)',
  message: 'Import shared code from @ticketing/platform; a service never imports another service\'s src.',
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.tools/**', 'charts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  { files: ['**/test/**/*.ts', '**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['services/web-app/src/client/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  // Import boundaries (docs/architecture.md): entry points -> domain -> (ports it owns) <- data access.
  {
    files: ['services/*/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [otherServicesSource] }] },
  },
  {
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            otherServicesSource,
            {
              regex: '(^|/)(data-access|entry-points)(/|$)',
              message: 'The domain owns its ports (domain/ports.ts); data access and entry points implement and call them.',
            },
            {
              regex: '^(koa|pg|knex|ioredis|redlock|rascal|amqplib|prom-client|qrcode)$',
              message: 'Infrastructure belongs in data-access, entry-points or lib.',
            },
          ],
        },
      ],
    },
  },
  {
    // lib/: small technical helpers of one service (e.g. the QR PNG encoder), knowing nothing of its rooms.
    files: ['services/*/src/lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [otherServicesSource, { regex: '(^|/)(domain|data-access|entry-points)(/|$)', message: 'lib/ knows no domain, data access or entry point.' }] },
      ],
    },
  },
  {
    files: ['services/*/src/data-access/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [otherServicesSource, { regex: '(^|/)entry-points(/|$)', message: 'Data access never calls entry points.' }] },
      ],
    },
  },
);
