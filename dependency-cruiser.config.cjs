/**
 * The import rules of raccord's layout (issue 13), checked by `npm run depcruise` in `npm test`.
 * Bottom to top: config, storage, notify; the engine (closed on itself); src/app (the domains) and
 * src/engine-client (the only home of @camunda8/sdk calls); the HTTP faces (api, console, status);
 * the workers; src/wiring and src/cli.ts, the only code that sees everything. Tests and benchmarks
 * may import anything, but take part in the cycle check.
 */
// node_modules may be a link to another checkout's, hence no anchor.
const SDK = '(^|/)node_modules/@camunda8/sdk/'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-is-closed',
      severity: 'error',
      comment: 'src/engine/** imports nothing of the project outside src/engine/.',
      from: { path: '^src/engine/' },
      to: { path: '^(src|workers|test|bench|processes)/', pathNot: '^src/engine/' },
    },
    {
      name: 'engine-only-from-the-composition-root',
      severity: 'error',
      comment: 'Only src/cli.ts and src/wiring/ import the engine.',
      from: { path: '^(src|workers)/', pathNot: '^(src/engine/|src/wiring/|src/cli\\.ts$)' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'engine-through-its-index',
      severity: 'error',
      comment: 'src/cli.ts and src/wiring/ reach the engine through src/engine/index.ts only (and cli.ts the gRPC thread, which it spawns before the engine loads).',
      from: { path: '^(src/wiring/|src/cli\\.ts$)' },
      to: { path: '^src/engine/', pathNot: '^src/engine/(index|gateway/gateway-thread)\\.ts$' },
    },
    {
      name: 'engine-index-only-re-exports',
      severity: 'error',
      comment: 'src/engine/index.ts is the public entry: nothing inside the engine imports it back.',
      from: { path: '^src/engine/', pathNot: '^src/engine/index\\.ts$' },
      to: { path: '^src/engine/index\\.ts$' },
    },
    {
      name: 'engine-model-stands-alone',
      severity: 'error',
      comment: 'model/ reads and validates definitions; it never imports runtime/, state/, gateway/ or rest/.',
      from: { path: '^src/engine/model/' },
      to: { path: '^src/engine/(runtime|state|gateway|rest)/' },
    },
    {
      name: 'engine-state-below-processing',
      severity: 'error',
      comment: 'state/ is storage below processing: it never imports runtime/ or model/.',
      from: { path: '^src/engine/state/' },
      to: { path: '^src/engine/(runtime|model)/' },
    },
    {
      name: 'engine-edges-use-the-engine-api',
      severity: 'error',
      comment: 'gateway/ and rest/ speak to the EngineApi (src/engine/api.ts, shared record types, problem helpers), never to runtime/, the storage or the server.',
      from: { path: '^src/engine/(gateway|rest)/' },
      to: { path: '^src/engine/(runtime/|server\\.ts$|state/(?!records\\.ts$))' },
    },
    {
      name: 'app-is-the-domain',
      severity: 'error',
      comment: 'src/app/** never imports the API, the console, the status page, the wiring, the workers or the engine.',
      from: { path: '^src/app/' },
      to: { path: '^(src/(api|console|status|wiring|engine)/|workers/)' },
    },
    {
      name: 'app-without-the-sdk',
      severity: 'error',
      comment: 'src/app/** never imports @camunda8/sdk; it names the engine-client shapes with `import type` only.',
      from: { path: '^src/app/' },
      to: { path: SDK },
    },
    {
      name: 'app-sees-engine-client-shapes-only',
      severity: 'error',
      comment: 'src/app/** may name the adapter shapes of src/engine-client/ (`import type`), never load the SDK code behind them.',
      from: { path: '^src/app/' },
      to: { path: '^src/engine-client/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdk-in-one-home',
      severity: 'error',
      comment: 'Only src/engine-client/, src/wiring/, src/cli.ts and workers/index.ts import @camunda8/sdk.',
      from: { path: '^(src|workers)/', pathNot: '^(src/engine-client/|src/wiring/|src/cli\\.ts$|workers/index\\.ts$|src/engine/)' },
      to: { path: SDK },
    },
    {
      name: 'engine-client-below-the-app',
      severity: 'error',
      comment: 'src/engine-client/ adapts the SDK to the shapes it declares; it never imports the domains, the HTTP faces, the wiring, the workers or the engine.',
      from: { path: '^src/engine-client/' },
      to: { path: '^(src/(app|api|console|status|wiring|engine|notify|storage)/|workers/)' },
    },
    {
      name: 'faces-without-wiring',
      severity: 'error',
      comment: 'src/api, src/console and src/status never import the wiring, the workers or the engine.',
      from: { path: '^src/(api|console|status)/' },
      to: { path: '^(src/(wiring|engine)/|workers/)' },
    },
    {
      name: 'status-beside-the-app',
      severity: 'error',
      comment: 'The status page keeps its own store: src/status never imports src/app, the API or the console.',
      from: { path: '^src/status/' },
      to: { path: '^src/(app|api|console)/' },
    },
    {
      name: 'config-at-the-bottom',
      severity: 'error',
      comment: 'src/config imports nothing of the project outside itself.',
      from: { path: '^src/config/' },
      to: { path: '^(src|workers)/', pathNot: '^src/config/' },
    },
    {
      name: 'storage-at-the-bottom',
      severity: 'error',
      comment: 'src/storage (opening SQLite) imports nothing of the project outside itself.',
      from: { path: '^src/storage/' },
      to: { path: '^(src|workers)/', pathNot: '^src/storage/' },
    },
    {
      name: 'notify-above-config-only',
      severity: 'error',
      comment: 'src/notify imports only itself and src/config.',
      from: { path: '^src/notify/' },
      to: { path: '^(src|workers)/', pathNot: '^src/(notify|config)/' },
    },
    {
      name: 'workers-below-the-wiring',
      severity: 'error',
      comment: 'Workers never import the wiring, the HTTP faces or the engine.',
      from: { path: '^workers/' },
      to: { path: '^src/(wiring|api|console|engine)/' },
    },
    {
      name: 'sdk-in-the-worker-registry-only',
      severity: 'error',
      comment: 'Among the workers only workers/index.ts imports @camunda8/sdk: a worker is plain logic.',
      from: { path: '^workers/', pathNot: '^workers/index\\.ts$' },
      to: { path: SDK },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the cruiser cannot resolve is a typo or a missing package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The console's browser bundle has its own tsconfig and its own bundler.
    exclude: { path: '^src/console/client/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['main', 'types', 'typings'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
