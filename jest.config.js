// ES-module-only packages must be compiled by ts-jest: jest on Node 20 cannot require() them.
const esmOnly = ['feelin', 'temporal-polyfill', 'temporal-utils', 'lezer-feel', '@lezer', 'bpmn-moddle',
  'dmn-moddle', 'moddle', 'moddle-xml', 'saxen', 'min-dash', 'zeebe-bpmn-moddle']

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testTimeout: 30000,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', {
      // Transpile only: `npm run typecheck` checks types once for the whole project.
      tsconfig: { isolatedModules: true, allowJs: true, module: 'commonjs', esModuleInterop: true, resolveJsonModule: true,
        types: ['node', 'jest'], skipLibCheck: true, strict: true },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
}
