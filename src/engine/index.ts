/**
 * The embedded engine's only public entry: what src/cli.ts and src/wiring/ may use. Re-exports
 * only; everything else under src/engine/ is the engine's own business.
 */
export { engineAccessFromEnv, startEngineServer, type EngineServer, type EngineServerOptions } from './server'
