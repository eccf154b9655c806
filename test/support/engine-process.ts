/**
 * Runs the embedded engine as a child process (`raccord engine --data-dir DIR`), the way it runs in
 * production, so tests can kill it with SIGKILL and start it again on the same state.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createTestClient, type TestClient } from './engine-harness'

const CLI = path.join(__dirname, '../../bin/raccord.js')
/** Whole lines only: a chunk may end in the middle of a port number. */
const READY = /REST API on http:\/\/127\.0\.0\.1:(\d+)\/v2\n/
const GRPC = /gRPC gateway on grpc:\/\/127\.0\.0\.1:(\d+)\n/
const START_TIMEOUT_MS = 20_000

/** How a child engine ended. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** One run of the engine process. */
export interface EngineProcess {
  grpcPort: number
  restPort: number
  dataDir: string
  pid: number
  /** everything the process printed so far, stdout and stderr interleaved */
  output(): string
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>
  /** Send a signal and wait for the process to end. */
  kill(signal: NodeJS.Signals): Promise<ProcessExit>
}

/** Ports the OS reports free: bind port 0, note the port, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * Root writes through file modes, thanks to CAP_DAC_OVERRIDE (and reads through them with
 * CAP_DAC_READ_SEARCH). A root test run that needs file modes to apply runs the engine still as
 * root, so it reads the checkout wherever it lies (a 0700 directory included), but with these two
 * capabilities dropped by setpriv (util-linux): then a mode such as 0555 stops root too.
 */
const WITHOUT_DAC_OVERRIDE = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search']

/** Run `raccord engine` with `args` until it exits (at most `timeoutMs`); for start-up failures. */
export function runEngineCli(args: string[], options: { withoutDacOverride?: boolean; timeoutMs?: number } = {}): Promise<ProcessExit & { output: string }> {
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS
  const [command, ...prefix] = options.withoutDacOverride ? [...WITHOUT_DAC_OVERRIDE, process.execPath] : [process.execPath]
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, CLI, 'engine', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      // It started serving: stop it at once, the caller sees exit code 0 and the output.
      if (READY.test(output)) child.kill('SIGTERM')
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`raccord engine ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(command === process.execPath ? error : new Error(`${command} (util-linux) is needed to run the engine as root without CAP_DAC_OVERRIDE: ${error.message}`, { cause: error }))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

/**
 * Start the engine on free ports with its state in `dataDir`, and wait until it serves. Rejects
 * with the process output when it exits first.
 */
export async function startEngineProcess(dataDir: string): Promise<EngineProcess> {
  // A port picked this way can be taken by someone else before the child binds it: try again then.
  for (let attempt = 1; ; attempt++) {
    const grpcPort = await freePort()
    const restPort = await freePort()
    try {
      return await spawnEngine(dataDir, grpcPort, restPort)
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error
    }
  }
}

function spawnEngine(dataDir: string, grpcPort: number, restPort: number): Promise<EngineProcess> {
  const child: ChildProcess = spawn(process.execPath,
    [CLI, 'engine', '--grpc-port', String(grpcPort), '--rest-port', String(restPort), '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return new Promise<EngineProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`engine did not serve within ${START_TIMEOUT_MS} ms:\n${output}`))
    }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const rest = READY.exec(output)
      if (!rest) return
      clearTimeout(timer)
      const grpc = GRPC.exec(output)
      resolve({
        grpcPort: grpc ? Number(grpc[1]) : grpcPort,
        restPort: Number(rest[1]),
        dataDir,
        pid: child.pid as number,
        output: () => output,
        exited,
        kill: async (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          return exited
        },
      })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`engine exited (code ${code}, signal ${signal}) before serving:\n${output}`))
    })
  })
}

/**
 * SDK clients for a running engine (gRPC without retries, REST for searches), once the gRPC
 * channel is ready. A channel closed before it was ever ready keeps a 10 s timer (grpc-js
 * waitForReady), which holds jest open after the tests.
 */
export async function connect(engine: Pick<EngineProcess, 'grpcPort' | 'restPort'>): Promise<TestClient> {
  const client = createTestClient(engine)
  await client.zeebe.topology()
  return client
}

/**
 * One engine process for a test file, on a scratch data dir that outlives its restarts: started
 * (again) with `start`, ended with `stop` (SIGKILL for a crash), and stopped and removed after the
 * file. `search` queries its REST API.
 */
export function engineProcessKit(name: string) {
  let scratch = ''
  let engine: EngineProcess | undefined
  let client: TestClient | undefined

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), `raccord-${name}-`))
  })
  afterAll(async () => {
    await client?.close()
    await engine?.kill('SIGTERM')
    await rm(scratch, { recursive: true, force: true })
  })

  const running = (): EngineProcess => {
    if (!engine) throw new Error('the engine process is not started')
    return engine
  }

  return {
    /** the engine's data dir */
    get dataDir(): string { return path.join(scratch, 'engine') },
    get engine(): EngineProcess { return running() },
    get started(): boolean { return engine !== undefined },
    /** Start the engine on the data dir (the same state after a stop or a kill) and connect a client. */
    async start(): Promise<TestClient> {
      engine = await startEngineProcess(path.join(scratch, 'engine'))
      client = await connect(engine)
      return client
    },
    /** Close the client and end the engine with `signal`. */
    async stop(signal: NodeJS.Signals): Promise<void> {
      await client?.close()
      client = undefined
      await engine?.kill(signal)
      engine = undefined
    },
    async search<T>(entity: string, filter: Record<string, unknown>, page?: { limit: number }): Promise<T[]> {
      const response = await fetch(`http://127.0.0.1:${running().restPort}/v2/${entity}/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filter, page }),
      })
      return ((await response.json()) as { items: T[] }).items
    },
  }
}
