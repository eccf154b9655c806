/**
 * Runs the real-world models of `../shared/corpus/models` (or a directory given as argument) on the
 * embedded engine, one by one, through the unmodified @camunda8/sdk, and reports what raccord did
 * with each: deployment accepted or rejected (with the engine's reason), and for each process of an
 * accepted deployment, how one instance ran when every job of a statically known type is completed
 * and every user task is completed with no variables.
 *
 * The engine runs as its own process (`raccord engine --in-memory`), so a model that hangs it is
 * reported as such and the engine is restarted for the next model.
 *
 *   npm run bench:corpus [-- <dir>] [--out report.json] [--only <substring>]
 *
 * It prints figures and a line per model; it asserts nothing. What Zeebe 8.8 does with each model
 * is for the reader to compare (issue 18).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Camunda8 } from '@camunda8/sdk'

const CLI = path.join(__dirname, '../bin/raccord.js')
const READY = /REST API on http:\/\/127\.0\.0\.1:(\d+)\/v2\n/
const GRPC = /gRPC gateway on grpc:\/\/127\.0\.0\.1:(\d+)\n/
/** How long one call may take before the engine is deemed hung. */
const CALL_TIMEOUT_MS = 15_000
/** How long an instance is driven before its state is read. */
const DRIVE_ROUNDS = 15
const ROUND_MS = 100

type Outcome =
  | 'rejected'
  | 'completed'
  | 'waiting'
  | 'incident'
  | 'not-started'
  | 'engine-hung'
  | 'decision-only'

interface ProcessRun {
  bpmnProcessId: string
  outcome: Outcome
  detail?: string
  jobsCompleted: number
  userTasksCompleted: number
}

interface ModelReport {
  file: string
  deployed: boolean
  rejection?: string
  processes: ProcessRun[]
  ms: number
}

interface EngineProcess {
  child: ChildProcess
  grpcPort: number
  restPort: number
  output: () => string
}

function parseArgs(argv: string[]): { dir: string; out: string; only?: string } {
  let dir = path.join(__dirname, '../../shared/corpus/models')
  let out = path.join(os.tmpdir(), `raccord-corpus-${Date.now()}.json`)
  let only: string | undefined
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i]
    else if (argv[i] === '--only') only = argv[++i]
    else dir = argv[i]
  }
  return { dir, out, only }
}

function listModels(dir: string): string[] {
  const found: string[] = []
  const pending = [dir]
  while (pending.length > 0) {
    const current = pending.pop() as string
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) pending.push(full)
      else if (/\.(bpmn|dmn)$/.test(entry.name)) found.push(full)
    }
  }
  return found.sort()
}

function startEngine(): Promise<EngineProcess> {
  const child = spawn(process.execPath, [CLI, 'engine', '--in-memory', '--grpc-port', '0', '--rest-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`engine did not serve within 30 s:\n${output}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      // Keep only the tail: a long run must not grow this without bound.
      if (output.length > 100_000) output = output.slice(-50_000)
      const rest = READY.exec(output)
      const grpc = GRPC.exec(output)
      if (!rest || !grpc) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.stdout?.resume()
      child.stderr?.resume()
      resolve({ child, grpcPort: Number(grpc[1]), restPort: Number(rest[1]), output: () => output })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`engine exited (code ${code}, signal ${signal}) before serving:\n${output}`))
    })
  })
}

function clientFor(engine: EngineProcess): Camunda8 {
  return new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${engine.grpcPort}`,
    ZEEBE_REST_ADDRESS: `http://127.0.0.1:${engine.restPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'none',
    zeebeGrpcSettings: { ZEEBE_GRPC_CLIENT_RETRY: false, ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_CONNECTION_TOLERANCE_MS: 0 },
  })
}

class HungError extends Error {}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 400)
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new HungError(`${what} got no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The job types a model names literally (a FEEL type is left to the reader of the report). */
function staticJobTypes(xml: string): string[] {
  const types = new Set<string>()
  for (const match of xml.matchAll(/<zeebe:taskDefinition\b[^>]*\btype="([^"=][^"]*)"/g)) types.add(match[1])
  return [...types]
}

async function rest<T>(engine: EngineProcess, method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await withTimeout(fetch(`http://127.0.0.1:${engine.restPort}/v2/${urlPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }), `${method} /v2/${urlPath}`)
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} /v2/${urlPath}: ${response.status} ${text.slice(0, 300)}`)
  return (text === '' ? undefined : JSON.parse(text)) as T
}

async function driveInstance(engine: EngineProcess, camunda: Camunda8, key: string, jobTypes: string[]): Promise<Omit<ProcessRun, 'bpmnProcessId'>> {
  const zeebe = camunda.getZeebeGrpcApiClient()
  let jobsCompleted = 0
  let userTasksCompleted = 0
  for (let round = 0; round < DRIVE_ROUNDS; round++) {
    for (const type of jobTypes) {
      const jobs = await withTimeout(zeebe.activateJobs({ type, maxJobsToActivate: 32, timeout: 60_000, worker: 'corpus', requestTimeout: -1 }), `activate ${type}`)
      for (const job of jobs) {
        await withTimeout(zeebe.completeJob({ jobKey: job.key, variables: {} }), `complete job ${job.key}`)
        jobsCompleted++
      }
    }
    const tasks = await rest<{ items: Array<{ userTaskKey: string }> }>(engine, 'POST', 'user-tasks/search', { filter: { processInstanceKey: key, state: 'CREATED' } })
    for (const task of tasks.items) {
      await rest(engine, 'POST', `user-tasks/${task.userTaskKey}/completion`, {}).then(() => userTasksCompleted++, () => undefined)
    }
    const instance = await rest<{ state: string }>(engine, 'GET', `process-instances/${key}`)
    if (instance.state !== 'ACTIVE') break
    await new Promise((resolve) => setTimeout(resolve, ROUND_MS))
  }
  const instance = await rest<{ state: string; hasIncident?: boolean }>(engine, 'GET', `process-instances/${key}`)
  const incidents = await rest<{ items: Array<{ errorType: string; errorMessage: string; elementId: string }> }>(engine, 'POST', 'incidents/search', { filter: { processInstanceKey: key } })
  const open = incidents.items
  if (open.length > 0) {
    const first = open[0]
    return { outcome: 'incident', detail: oneLine(`${first.errorType} at ${first.elementId}: ${first.errorMessage}`), jobsCompleted, userTasksCompleted }
  }
  if (instance.state === 'COMPLETED') return { outcome: 'completed', jobsCompleted, userTasksCompleted }
  if (instance.state === 'ACTIVE') {
    const waiting = await rest<{ items: Array<{ elementId: string; type: string }> }>(engine, 'POST', 'element-instances/search', { filter: { processInstanceKey: key, state: 'ACTIVE' } })
    const at = waiting.items.filter((e) => e.type !== 'PROCESS').map((e) => e.elementId)
    return { outcome: 'waiting', detail: at.length > 0 ? `at ${at.slice(0, 5).join(', ')}` : undefined, jobsCompleted, userTasksCompleted }
  }
  return { outcome: instance.state === 'TERMINATED' ? 'completed' : 'waiting', detail: instance.state, jobsCompleted, userTasksCompleted }
}

async function runModel(engine: EngineProcess, camunda: Camunda8, file: string): Promise<Omit<ModelReport, 'file' | 'ms'>> {
  const zeebe = camunda.getZeebeGrpcApiClient()
  const xml = fs.readFileSync(file, 'utf8')
  let deployment: { deployments: Array<{ process?: { bpmnProcessId: string } }> }
  try {
    deployment = await withTimeout<{ deployments: Array<{ process?: { bpmnProcessId: string } }> }>(
      (file.endsWith('.dmn') ? zeebe.deployResource({ decisionFilename: file }) : zeebe.deployResource({ processFilename: file })) as Promise<{ deployments: Array<{ process?: { bpmnProcessId: string } }> }>,
      'deployment')
  } catch (error) {
    if (error instanceof HungError) throw error
    return { deployed: false, rejection: oneLine((error as Error).message ?? String(error)), processes: [] }
  }
  const processes: ProcessRun[] = []
  const jobTypes = staticJobTypes(xml)
  for (const entry of deployment.deployments) {
    if (!entry.process) continue
    const bpmnProcessId = entry.process.bpmnProcessId
    let created
    try {
      created = await withTimeout(zeebe.createProcessInstance({ bpmnProcessId, variables: {} }), `create ${bpmnProcessId}`)
    } catch (error) {
      if (error instanceof HungError) throw error
      processes.push({ bpmnProcessId, outcome: 'not-started', detail: oneLine((error as Error).message), jobsCompleted: 0, userTasksCompleted: 0 })
      continue
    }
    const run = await driveInstance(engine, camunda, String(created.processInstanceKey), jobTypes)
    if (run.outcome === 'waiting') await rest(engine, 'POST', `process-instances/${created.processInstanceKey}/cancellation`, {}).catch(() => undefined)
    processes.push({ bpmnProcessId, ...run })
  }
  if (processes.length === 0 && file.endsWith('.dmn')) processes.push({ bpmnProcessId: '-', outcome: 'decision-only', jobsCompleted: 0, userTasksCompleted: 0 })
  return { deployed: true, processes }
}

async function main(): Promise<void> {
  const { dir, out, only } = parseArgs(process.argv.slice(2))
  const models = listModels(dir).filter((file) => only === undefined || file.includes(only))
  if (models.length === 0) throw new Error(`no .bpmn or .dmn file under ${dir}`)
  console.log(`corpus: ${models.length} models from ${dir}`)
  let engine = await startEngine()
  let camunda = clientFor(engine)
  const reports: ModelReport[] = []
  const started = Date.now()
  for (const file of models) {
    const name = path.relative(dir, file)
    const t0 = Date.now()
    let report: ModelReport
    try {
      report = { file: name, ...(await runModel(engine, camunda, file)), ms: 0 }
    } catch (error) {
      report = { file: name, deployed: true, processes: [{ bpmnProcessId: '?', outcome: 'engine-hung', detail: (error as Error).message.slice(0, 300), jobsCompleted: 0, userTasksCompleted: 0 }], ms: 0 }
      // A hung or dead engine serves no further model: start a fresh one.
      engine.child.kill('SIGKILL')
      await camunda.closeAllClients().catch(() => undefined)
      engine = await startEngine()
      camunda = clientFor(engine)
    }
    report.ms = Date.now() - t0
    reports.push(report)
    const summary = report.deployed
      ? report.processes.map((p) => `${p.bpmnProcessId}: ${p.outcome}${p.detail ? ` (${p.detail})` : ''}`).join('; ') || 'deployed, no process'
      : `rejected: ${report.rejection}`
    console.log(`${name}\t${summary}`)
  }
  await camunda.closeAllClients().catch(() => undefined)
  engine.child.kill('SIGTERM')

  const runs = reports.flatMap((r) => r.processes)
  const count = (outcome: Outcome) => runs.filter((p) => p.outcome === outcome).length
  console.log('')
  console.log(`models            ${reports.length} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`deployed          ${reports.filter((r) => r.deployed).length}`)
  console.log(`rejected          ${reports.filter((r) => !r.deployed).length}`)
  for (const outcome of ['completed', 'waiting', 'incident', 'not-started', 'decision-only', 'engine-hung'] as Outcome[]) {
    console.log(`${outcome.padEnd(18)}${count(outcome)}`)
  }
  fs.writeFileSync(out, JSON.stringify(reports, null, 2))
  console.log(`report            ${out}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
