/**
 * What the bench's sections share: the servers it forks (engine, stub, stall probe) and talks to
 * over IPC, the engine's own account of its pauses, restarts timed from the spawn, and small
 * helpers for figures. See bench/engine.ts for the sections.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { Camunda8 } from '@camunda8/sdk'

/** BENCH_CPU_PROFILES=dir: each engine and stub writes a V8 CPU profile there when it stops */
export const CPU_PROFILES = process.env.BENCH_CPU_PROFILES
/** Node or V8 flags for every server the bench starts (such as --trace-gc-nvp); their output then goes to $TMPDIR/raccord-bench-<pid>.out */
export const ENGINE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')

export const ROOT = path.join(__dirname, '..')
/**
 * BENCH_PIN=1 (Linux, taskset from util-linux): this client and its probe on core 0, each server
 * (engine or stub) with all its threads on core 1, so that neither takes CPU from the other, as
 * when the clients run on another machine. Each server then has one core to itself.
 */
export const PIN = process.env.BENCH_PIN === '1'

/** Every thread of `pid` on `cpu` (threads made later inherit it from their creator). */
export function pin(pid: number | undefined, cpu: number): void {
  if (!PIN || pid === undefined) return
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' })
}
export const ENGINE_SCRIPT = 'bin/raccord.js'

export interface StallReport { type: 'report'; polls: number; failures: number; p50: number; p99: number; max: number; over50: number; over100: number; slow: Period[] }
/** A stretch of time: its start in ms since the epoch (the probe's and the engine's clocks are this machine's) and its length. */
export interface Period { at: number; ms: number }
/**
 * A pause the engine saw in itself (cli.ts): a collection, a checkpoint's rows built, a turn of the
 * loop that held a timer back (with, on Linux, how long of it its thread waited for a core).
 */
export interface EnginePause extends Period { what: string; waitMs?: number }

/**
 * What the polls over 100 ms overlapped on the engine's side: each is put down to the first of a
 * collection, a checkpoint build or a held loop that overlaps it (a collection or a checkpoint
 * holds the loop too), else to nothing the engine saw (its process was not given a core). With
 * `during`, also which of those named stretches (the searches) each fell in. Then how many of
 * them the engine's thread spent mostly waiting for a core (the held turns that overlap it).
 */
export function describeCauses(slow: Period[], pauses: EnginePause[], during: (Period & { name: string })[] = []): string[] {
  if (slow.length === 0) return []
  const overlaps = (a: Period, b: Period) => a.at < b.at + b.ms && b.at < a.at + a.ms
  const causes = new Map<string, number>()
  const within = new Map<string, number>()
  let waitingForCore = 0
  let heldWithWait = 0
  for (const poll of slow) {
    const seen = pauses.filter((p) => overlaps(p, poll))
    const held = seen.filter((p) => p.waitMs !== undefined)
    if (held.length > 0) {
      heldWithWait++
      const waited = held.reduce((sum, p) => sum + (p.waitMs as number), 0)
      if (waited >= held.reduce((sum, p) => sum + p.ms, 0) / 2) waitingForCore++
    }
    const cause = seen.find((p) => p.what.endsWith('collection')) ?? seen.find((p) => p.what.startsWith('checkpoint')) ?? seen[0]
    const label = cause === undefined ? 'nothing the engine saw' : cause.what.endsWith('collection') ? cause.what : cause.what.startsWith('checkpoint') ? 'checkpoint rows built' : 'event loop held (no collection or checkpoint of 20 ms)'
    causes.set(label, (causes.get(label) ?? 0) + 1)
    const stretch = during.find((d) => overlaps(d, poll))
    if (stretch) within.set(stretch.name, (within.get(stretch.name) ?? 0) + 1)
  }
  const list = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ')
  const lines = [`polls over 100 ms, by what overlapped them in the engine: ${list(causes)}`]
  if (within.size > 0) lines.push(`polls over 100 ms, by the search running: ${list(within)}`)
  if (heldWithWait > 0) lines.push(`of the ${heldWithWait} during which the engine's loop was held, its thread spent most of that time waiting for a core in ${waitingForCore}`)
  return lines
}

/** Starts bench/stall-probe.ts against `restPort`; `report()` gives the figures since the last one. */
export interface StallProbe { report(): Promise<StallReport>; stop(): Promise<number> }

export async function startStallProbe(restPort: number): Promise<StallProbe> {
  const probe = await forkServer('bench/stall-probe.ts', [String(restPort)])
  return { report: () => ask<StallReport>(probe, 'report'), stop: () => stopServer(probe, 'SIGKILL') }
}

export function describeStalls(r: StallReport): string {
  return `REST poll every 20 ms from another process: ${count(r.polls)} polls, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
    `longest ${r.max.toFixed(1)} ms; ${r.over50} over 50 ms, ${r.over100} over 100 ms, ${r.failures} failed`
}


export interface Ready { type: 'ready'; grpcPort: number; restPort?: number }
export interface EngineCounts { instances: number; activeInstances: number; elements: number; jobs: number; timers: number; messageSubscriptions: number; recordsInMemory: number }
export interface Pauses {
  loopMaxMs: number
  long?: EnginePause[]
  gc: { count: number; totalMs: number; maxMs: number; longest: string }
  checkpoints?: { count: number; totalMs: number; maxMs: number; maxRows: number; writer?: { count: number; totalMs: number; maxMs: number } }
}
export interface Stats { type: 'stats'; rss: number; heapTotal: number; heapUsed: number; external: number; collected: boolean; engine: EngineCounts; diskBytes?: number; pauses: Pauses }

/** The engine's own account of its pauses since the previous stats: what a stall seen from outside comes from. */
export function describePauses(s: Stats): string {
  const { loopMaxMs, gc, checkpoints: c } = s.pauses
  const writer = c?.writer ? `, written in the writer thread in at most ${c.writer.maxMs.toFixed(1)} ms, mean ${(c.writer.totalMs / Math.max(1, c.writer.count)).toFixed(1)} ms` : ''
  const checkpoints = c ? `checkpoints: ${count(c.count)} so far, rows built on the event loop in holds of at most ${c.maxMs.toFixed(1)} ms, ${(c.totalMs / Math.max(1, c.count)).toFixed(1)} ms a checkpoint on average (all its holds)${writer}, at most ${count(c.maxRows)} rows; ` : ''
  return `engine side: ${checkpoints}garbage collection: ${count(gc.count)} pauses, longest ${gc.maxMs.toFixed(1)} ms${gc.longest ? ` (${gc.longest})` : ''}; event loop delay at most ${loopMaxMs.toFixed(1)} ms`
}

/** A child process serving the gateway protocol, talked to over IPC. */
export interface Server {
  child: ChildProcess
  grpcPort: number
  restPort?: number
  /** what the child printed on stdout so far */
  lines: string[]
}

export const children = new Set<ChildProcess>()

export function forkServer(script: string, args: string[]): Promise<Server> {
  const child = fork(path.join(ROOT, script), args, {
    cwd: ROOT,
    execArgv: ['--expose-gc', '-r', 'tsx/cjs', ...(CPU_PROFILES ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILES}`] : []), ...ENGINE_FLAGS],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  pin(child.pid, 1)
  const lines: string[] = []
  if (child.stdout) {
    const log = ENGINE_FLAGS.length > 0 ? fs.createWriteStream(path.join(os.tmpdir(), `raccord-bench-${child.pid}.out`)) : undefined
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      log?.write(`${line}\n`)
      if (!line.startsWith('[') && !line.startsWith('pause=')) lines.push(line)
    })
  }
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before it was ready`)))
    child.on('message', (message: Ready) => {
      if (message.type !== 'ready') return
      // (again: a thread its start made while the first pinning went through its threads)
      pin(child.pid, 1)
      resolve({ child, grpcPort: message.grpcPort, restPort: message.restPort, lines })
    })
  })
}

/** Ends the child with `signal`; resolves with the ms until it exited. */
export function stopServer(server: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const started = performance.now()
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit')
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve(0)
    server.child.once('exit', () => {
      children.delete(server.child)
      resolve(performance.now() - started)
    })
    server.child.kill(signal)
  })
}

export function ask<T extends { type: string }>(server: Server, type: T['type']): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return
      server.child.off('message', onMessage)
      resolve(message)
    }
    server.child.on('message', onMessage)
    server.child.send({ type })
  })
}

export const stats = (server: Server) => ask<Stats>(server, 'stats')

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

/** Bytes of every file under `dir`: the database, its WAL and shared-memory file. */
export function dirBytes(dir: string): number {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    total += entry.isDirectory() ? dirBytes(full) : fs.statSync(full).size
  }
  return total
}

export function connect(grpcPort: number): Camunda8 {
  return new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${grpcPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'none',
    zeebeGrpcSettings: { ZEEBE_GRPC_CLIENT_RETRY: false, ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
  })
}

/** Runs `count` tasks with at most `concurrency` in progress. */
export async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
export const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
export const count = (n: number) => Math.round(n).toLocaleString('en-US')
export const mark = (ok: boolean) => (ok ? '✓' : '✗')


export interface Restart {
  /** spawn -> first successful GET /v2/topology */
  servingMs: number
  recoveryLine: string
  after: Stats
}

/** Starts the engine on `dataDir` and polls GET /v2/topology from the moment of the spawn. */
export async function restart(dataDir: string): Promise<{ server: Server; restart: Restart }> {
  const [grpcPort, restPort] = [await freePort(), await freePort()]
  const spawned = performance.now()
  const starting = forkServer(ENGINE_SCRIPT, ['engine', '--data-dir', dataDir, '--grpc-port', String(grpcPort), '--rest-port', String(restPort)])
  let failed: unknown
  starting.catch((error: unknown) => { failed = error })
  let servingMs = NaN
  while (Number.isNaN(servingMs)) {
    if (failed) throw failed
    if (performance.now() - spawned > 300_000) throw new Error('the engine did not serve within 300 s of a restart')
    try {
      const response = await fetch(`http://127.0.0.1:${restPort}/v2/topology`)
      if (response.ok) servingMs = performance.now() - spawned
      else await sleep(10)
    } catch {
      await sleep(10)
    }
  }
  const server = await starting
  const after = await stats(server)
  const recoveryLine = server.lines.find((line) => line.includes('recovered in')) ?? '(no recovery line printed)'
  return { server, restart: { servingMs, recoveryLine, after } }
}

