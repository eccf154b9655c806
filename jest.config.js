// ES-module-only packages must be compiled by ts-jest: jest on Node 20 cannot require() them.
const esmOnly = ['feelin', 'temporal-polyfill', 'temporal-utils', 'lezer-feel', '@lezer', 'bpmn-moddle',
  'dmn-moddle', 'moddle', 'moddle-xml', 'saxen', 'min-dash', 'zeebe-bpmn-moddle']

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Ample for a busy 2-core machine: assertions poll and return as soon as they hold.
  testTimeout: 90000,
  // @camunda8/sdk 8.8.13 leaves a timer of longPoll + 1 s behind each closed createWorker (up to
  // 51 s with the SDK default), which would hold jest open after the last test.
  forceExit: true,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', {
      // Transpile only: `npm run typecheck` checks types once for the whole project.
      tsconfig: { isolatedModules: true, allowJs: true, module: 'commonjs', esModuleInterop: true, resolveJsonModule: true,
        types: ['node', 'jest'], skipLibCheck: true, strict: true },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
}
