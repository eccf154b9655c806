/**
 * raccord's command line: `raccord engine` runs the embedded engine alone, `raccord start` runs
 * raccord: the engine (or a Camunda cluster), the workers, the API; `raccord deploy` deploys
 * processes/ to the engine the SDK's environment names.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import type { EngineServer } from './engine'

const USAGE = `Usage: raccord <command> [options]

Commands:
  engine    run the embedded Zeebe-compatible engine (gRPC gateway and REST /v2)
  start     run raccord: the embedded engine (unless ZEEBE_GRPC_ADDRESS or ZEEBE_REST_ADDRESS
            names a Camunda cluster), a local SMTP sink (unless SMTP_URL is set; port 2525 or
            RACCORD_SMTP_SINK_PORT), the processes,
            the job workers and the HTTP API; configuration from RACCORD_CONFIG or
            raccord.config.yaml
  deploy    deploy processes/ (BPMN, DMN, forms) in one deployment to the engine the SDK's
            environment names (ZEEBE_GRPC_ADDRESS, ZEEBE_REST_ADDRESS, CAMUNDA_AUTH_STRATEGY...;
            default grpc://localhost:26500) and print each resource's key and version

Options:
  --grpc-port <port>   gRPC gateway port (default 26500)
  --rest-port <port>   REST API port (default 8080)
  --host <address>     engine: the address to listen on (default 127.0.0.1, or RACCORD_ENGINE_HOST);
                       beyond loopback it requires RACCORD_ENGINE_USERNAME and RACCORD_ENGINE_PASSWORD
  --data-dir <dir>     where state is kept (default ./data; for start, RACCORD_DATA_DIR too)
  --in-memory          keep no state on disk (a throwaway run; engine only)
  --no-deploy          start: do not deploy processes/ (they are deployed already)
  --processes-dir <d>  deploy: the directory to deploy (default the package's processes/)
  -h, --help           show this help
`

/** Bad command line: usage on stderr, exit status 2. */
class UsageError extends Error {}

/** A parent that forked this process (the benchmarks) may ask for heap or stats figures over IPC. */
interface IpcRequest { type: 'heap' | 'stats' }

/** How long this thread has waited for a core since it started, in ms (Linux's schedstat); undefined elsewhere. */
function threadWaitMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6
  } catch {
    return undefined
  }
}

function parsePort(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${flag} must be a port number (0-65535), got '${value}'`)
  return port
}

function parseCommandLine(argv: string[]) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'grpc-port': { type: 'string' },
        'rest-port': { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'in-memory': { type: 'boolean' },
        'no-deploy': { type: 'boolean' },
        'processes-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true as const }
  const [command, ...extra] = positionals
  if (command === undefined) throw new UsageError('missing command')
  if (command !== 'engine' && command !== 'start' && command !== 'deploy') throw new UsageError(`unknown command '${command}'`)
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
  if (values['data-dir'] !== undefined && values['in-memory']) throw new UsageError('--data-dir and --in-memory exclude each other')
  if (command === 'start' && values['in-memory']) throw new UsageError('--in-memory is for `raccord engine` only: start keeps the trace and the mails in a data dir')
  if (command !== 'start' && values['no-deploy']) throw new UsageError('--no-deploy is for `raccord start` only')
  if (command !== 'deploy' && values['processes-dir'] !== undefined) throw new UsageError('--processes-dir is for `raccord deploy` only')
  if (command !== 'engine' && values.host !== undefined) throw new UsageError('--host is for `raccord engine` only')
  return {
    dataDirFlag: values['data-dir'],
    dataDir: values['in-memory'] ? undefined : values['data-dir'] ?? './data',
    help: false as const,
    command,
    grpcPort: parsePort(values['grpc-port'], 26500, '--grpc-port'),
    restPort: parsePort(values['rest-port'], 8080, '--rest-port'),
    deploy: !values['no-deploy'],
    processesDir: values['processes-dir'],
    host: values.host,
  }
}

// Each command loads only what it runs: `raccord engine` needs neither the SDK nor the application,
// `raccord deploy` neither the engine nor the application. The sources run as CommonJS (compiled,
// or through tsx/cjs), so the lazy loads are require() calls: an import() would go to Node's ESM
// loader, which tsx/cjs does not hook.
async function runEngine(grpcPort: number, restPort: number, dataDir: string | undefined, hostFlag: string | undefined): Promise<EngineServer> {
  // Compiled, the engine is also bundled into one file (npm run build:engine): loading it skips
  // resolving hundreds of modules, about half of an empty engine's start-up.
  const bundle = join(__dirname, 'engine.bundle.js')
  // The gRPC server's thread loads grpc-js and the proto (about 200 ms) while the bundle loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { GatewayThread } = require('./engine/gateway/gateway-thread') as typeof import('./engine/gateway/gateway-thread')
  const gatewayThread = GatewayThread.spawn()
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { engineAccessFromEnv, startEngineServer } = require(existsSync(bundle) ? bundle : './engine') as typeof import('./engine')
  let server: EngineServer
  let host: string
  try {
    const access = engineAccessFromEnv(process.env)
    host = hostFlag ?? access.host ?? '127.0.0.1'
    server = await startEngineServer({ grpcPort, restPort, dataDir, ...access, host, gatewayThread })
  } catch (error) {
    console.error(`raccord engine: cannot start: ${(error as Error).message}`)
    process.exit(1)
  }
  if (server.durable) {
    const { snapshotSeq, replayed, ms } = server.durable.recovery
    console.log(`raccord engine: state in ${server.durable.store.file} (recovered in ${ms} ms: checkpoint at ${snapshotSeq}, ${replayed} commands replayed)`)
  } else {
    console.log('raccord engine: in memory only (--in-memory): nothing is kept after exit')
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`raccord engine: ${signal} received, stopping`)
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('raccord engine: error while stopping:', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // Announce readiness only once a stop signal would be handled (and the state snapshotted).
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const auth = server.authenticated ? ' (basic authentication required)' : ''
  console.log(`raccord engine: Zeebe gRPC gateway on grpc://${address}:${server.grpcPort}${auth}`)
  console.log(`raccord engine: REST API on http://${address}:${server.restPort}/v2${auth}`)

  const parent = process.send?.bind(process)
  if (parent) {
    // What the benchmarks attribute stalls to: the event loop's longest delay, and garbage collection pauses.
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const gcPauses = { count: 0, totalMs: 0, maxMs: 0, longest: '' }
    /** perf_hooks' gc kinds (NODE_PERFORMANCE_GC_*) */
    const gcKinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak callbacks' }
    /** the collections the benchmarks force to measure memory are theirs, not the engine's */
    let forced = { from: 0, to: 0 }
    /** pauses of 20 ms or more (their start, ms since the epoch), for the bench to match against the stalls it saw */
    let long: { at: number; ms: number; what: string; waitMs?: number }[] = []
    const keep = (at: number, ms: number, what: string, waitMs?: number) => {
      if (ms >= 20 && long.length < 10_000) long.push({ at: performance.timeOrigin + at, ms, what, waitMs })
    }
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.startTime >= forced.from && entry.startTime <= forced.to) continue
        gcPauses.count++
        gcPauses.totalMs += entry.duration
        const kind = ((entry as { detail?: { kind?: number } }).detail)?.kind ?? 0
        const what = gcKinds[kind] ?? `kind ${kind}`
        keep(entry.startTime, entry.duration, `${what} collection`)
        if (entry.duration > gcPauses.maxMs) {
          gcPauses.maxMs = entry.duration
          gcPauses.longest = what
        }
      }
    }).observe({ entryTypes: ['gc'] })
    // A turn of the event loop that held a 10 ms timer back, whatever held it, and how much of
    // that time the thread spent waiting for a core (Linux): a machine short of cores, not the engine.
    let tick = performance.now()
    let waited = threadWaitMs()
    setInterval(() => {
      const now = performance.now()
      const waitedNow = threadWaitMs()
      const waitMs = waited !== undefined && waitedNow !== undefined ? waitedNow - waited : undefined
      if (now - tick > 30 && !(tick <= forced.to && now >= forced.from)) keep(tick, now - tick - 10, 'event loop held', waitMs)
      tick = now
      waited = waitedNow
    }, 10).unref()
    process.on('message', (message: IpcRequest) => {
      if (message?.type !== 'heap' && message?.type !== 'stats') return
      const gc = (globalThis as { gc?: () => void }).gc
      forced = { from: performance.now(), to: Infinity }
      gc?.()
      forced.to = performance.now()
      const memory = process.memoryUsage()
      if (message.type === 'heap') {
        parent({ type: 'heap', heapUsed: memory.heapUsed, collected: gc !== undefined })
        return
      }
      parent({
        type: 'stats', ...memory, collected: gc !== undefined, engine: server.engine.stats(),
        diskBytes: server.durable?.store.sizeOnDisk(),
        pauses: {
          loopMaxMs: loop.max / 1e6, gc: { ...gcPauses },
          checkpoints: server.durable ? { ...server.durable.checkpoints, long: undefined, writer: { ...server.durable.store.writerCheckpoints } } : undefined,
          long: [...long, ...(server.durable?.checkpoints.long ?? []).map((c) => ({ ...c, what: 'checkpoint rows built' }))],
        },
      })
      long = []
      server.durable?.checkpoints.long.splice(0)
      loop.reset()
      Object.assign(gcPauses, { count: 0, totalMs: 0, maxMs: 0, longest: '' })
    })
    parent({ type: 'ready', grpcPort: server.grpcPort, restPort: server.restPort })
  }
  return server
}

async function runDeploy(processesDir: string | undefined): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Camunda8 } = require('@camunda8/sdk') as typeof import('@camunda8/sdk')
  const { clusterTarget, DeployError, deployProcesses, formatDeployment, PROCESSES_DIR } = require('./wiring/deploy') as typeof import('./wiring/deploy')
  /* eslint-enable @typescript-eslint/no-require-imports */
  const env = process.env
  const target = clusterTarget(env)
  const dir = resolve(processesDir ?? PROCESSES_DIR)
  console.log(`raccord deploy: ${dir} to gRPC ${target.grpcAddress}, REST ${target.restAddress} (auth ${target.authStrategy})`)
  // The SDK reads ZEEBE_GRPC_ADDRESS, CAMUNDA_AUTH_STRATEGY, the OAuth client credentials... itself.
  const camunda = new Camunda8({
    CAMUNDA_LOG_LEVEL: (env.CAMUNDA_LOG_LEVEL ?? 'error') as 'error',
    zeebeGrpcSettings: {
      ZEEBE_CLIENT_LOG_LEVEL: (env.ZEEBE_CLIENT_LOG_LEVEL ?? 'ERROR') as 'ERROR',
      // A command line gives up on an unreachable cluster; the SDK alone retries forever.
      ZEEBE_GRPC_CLIENT_MAX_RETRIES: Number(env.ZEEBE_GRPC_CLIENT_MAX_RETRIES ?? 8),
    },
  })
  try {
    for (const line of formatDeployment(await deployProcesses(camunda, dir), dir)) console.log(line)
  } catch (error) {
    if (!(error instanceof DeployError)) throw error
    console.error(`raccord deploy: ${error.message}`)
    process.exit(1)
  }
  await camunda.closeAllClients()
  process.exit(0)
}

async function runStart(grpcPort: number, restPort: number, dataDir: string, deploy: boolean): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { startRaccord } = require('./wiring/start') as typeof import('./wiring/start')
  const { ConfigError } = require('./config') as typeof import('./config')
  /* eslint-enable @typescript-eslint/no-require-imports */
  let raccord
  try {
    raccord = await startRaccord({ grpcPort, restPort, dataDir, deploy })
  } catch (error) {
    console.error(error instanceof ConfigError ? `raccord start: ${error.message}` : `raccord start: cannot start: ${(error as Error).message}`)
    process.exit(1)
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`raccord start: ${signal} received, stopping (workers, API, engine)`)
    raccord.close().then(
      () => {
        console.log('raccord start: stopped')
        process.exit(0)
      },
      (error: unknown) => {
        console.error('raccord start: error while stopping:', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

async function main(argv: string[]): Promise<void> {
  let commandLine
  try {
    commandLine = parseCommandLine(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`raccord: ${error.message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (commandLine.help) {
    process.stdout.write(USAGE)
    return
  }
  if (commandLine.command === 'start') {
    const dataDir = commandLine.dataDirFlag ?? process.env.RACCORD_DATA_DIR ?? './data'
    await runStart(commandLine.grpcPort, commandLine.restPort, dataDir, commandLine.deploy)
    return
  }
  if (commandLine.command === 'deploy') {
    await runDeploy(commandLine.processesDir)
    return
  }
  await runEngine(commandLine.grpcPort, commandLine.restPort, commandLine.dataDir, commandLine.host)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error('raccord:', error instanceof Error ? error.message : error)
  process.exit(1)
})
