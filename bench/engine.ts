/**
 * `npm run bench:engine`: the embedded engine's throughput and memory, measured through the SDK
 * as an application would see them. Prints figures only; it asserts nothing.
 *
 * 1. Throughput: BENCH_N (20,000) one-service-task instances, 64 in flight, a streamJobs worker
 *    completing the jobs; instances/s and job latency (create sent -> job received).
 * 2. The same against bench/stub-gateway.ts, a gateway that does no work: the SDK's ceiling.
 * 3. Heap per waiting instance: BENCH_WAITING (100,000) instances parked at an event-based gateway
 *    (a P1D timer and a message), heapUsed in the engine process before and after.
 *
 * Engine and stub each run in a child process, so the client's work is not counted against them.
 */
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Camunda8 } from '@camunda8/sdk'

const N = Number(process.env.BENCH_N ?? 20_000)
const WAITING = Number(process.env.BENCH_WAITING ?? 100_000)
const IN_FLIGHT = 64
const WAITING_IN_FLIGHT = 256
const WARM_UP = Math.min(1_000, Math.ceil(N / 10))
const JOB_TYPE = 'bench-work'
const ROOT = path.join(__dirname, '..')

const SERVICE_TASK_BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="bench-service-task-definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench-service-task" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to-work</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to-work" sourceRef="start" targetRef="work" />
    <bpmn:serviceTask id="work">
      <bpmn:extensionElements><zeebe:taskDefinition type="${JOB_TYPE}" /></bpmn:extensionElements>
      <bpmn:incoming>to-work</bpmn:incoming><bpmn:outgoing>to-end</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="to-end" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>to-end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
`

const WAITING_BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="bench-waiting-definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench-waiting" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to-wait</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to-wait" sourceRef="start" targetRef="wait" />
    <bpmn:eventBasedGateway id="wait">
      <bpmn:incoming>to-wait</bpmn:incoming><bpmn:outgoing>to-timer</bpmn:outgoing><bpmn:outgoing>to-message</bpmn:outgoing>
    </bpmn:eventBasedGateway>
    <bpmn:sequenceFlow id="to-timer" sourceRef="wait" targetRef="one-day" />
    <bpmn:sequenceFlow id="to-message" sourceRef="wait" targetRef="wake-up" />
    <bpmn:intermediateCatchEvent id="one-day">
      <bpmn:incoming>to-timer</bpmn:incoming><bpmn:outgoing>to-timed-out</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P1D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="wake-up">
      <bpmn:incoming>to-message</bpmn:incoming><bpmn:outgoing>to-woken</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="wake-up-message" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to-timed-out" sourceRef="one-day" targetRef="timed-out" />
    <bpmn:sequenceFlow id="to-woken" sourceRef="wake-up" targetRef="woken" />
    <bpmn:endEvent id="timed-out"><bpmn:incoming>to-timed-out</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="woken"><bpmn:incoming>to-woken</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:message id="wake-up-message" name="bench-wake-up">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=correlationId" /></bpmn:extensionElements>
  </bpmn:message>
</bpmn:definitions>
`

interface Ready { type: 'ready'; grpcPort: number }
interface Heap { type: 'heap'; heapUsed: number; collected: boolean }

/** A child process serving the gateway protocol, talked to over IPC. */
interface Server {
  child: ChildProcess
  grpcPort: number
}

function forkServer(script: string, args: string[]): Promise<Server> {
  const child = fork(path.join(ROOT, script), args, {
    cwd: ROOT,
    execArgv: ['--expose-gc', '-r', 'tsx/cjs'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)))
    child.on('message', (message: Ready) => {
      if (message.type === 'ready') resolve({ child, grpcPort: message.grpcPort })
    })
  })
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit')
    server.child.once('exit', () => resolve())
    server.child.kill('SIGTERM')
  })
}

function heapUsed(server: Server): Promise<Heap> {
  return new Promise((resolve) => {
    const onMessage = (message: Heap) => {
      if (message.type !== 'heap') return
      server.child.off('message', onMessage)
      resolve(message)
    }
    server.child.on('message', onMessage)
    server.child.send({ type: 'heap' })
  })
}

function connect(grpcPort: number): Camunda8 {
  return new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${grpcPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'none',
    zeebeGrpcSettings: { ZEEBE_GRPC_CLIENT_RETRY: false, ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
  })
}

/** Runs `count` tasks with at most `concurrency` in progress. */
async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

interface Throughput { perSecond: number; p50: number; p99: number; seconds: number }

/** Creates instances, each completed by a streamJobs worker, with IN_FLIGHT instances open at a time. */
async function measureThroughput(grpcPort: number): Promise<Throughput> {
  const camunda = connect(grpcPort)
  const zeebe = camunda.getZeebeGrpcApiClient()
  try {
    await zeebe.deployResource({ process: Buffer.from(SERVICE_TASK_BPMN), name: 'bench-service-task.bpmn' })
    const sentAt = new Map<number, number>()
    const latencies: number[] = []
    const done = new Map<number, () => void>()
    await zeebe.streamJobs({
      type: JOB_TYPE, worker: 'bench', timeout: 60_000, tenantIds: ['<default>'], fetchVariables: ['seq'],
      taskHandler: async (job) => {
        const seq = Number(job.variables.seq)
        latencies.push(performance.now() - (sentAt.get(seq) ?? NaN))
        const ack = await job.complete()
        done.get(seq)?.()
        return ack
      },
    })

    let seq = 0
    const run = async () => {
      const mine = seq++
      const completed = new Promise<void>((resolve) => done.set(mine, resolve))
      sentAt.set(mine, performance.now())
      await zeebe.createProcessInstance({ bpmnProcessId: 'bench-service-task', variables: { seq: mine } })
      await completed
      done.delete(mine)
      sentAt.delete(mine)
    }

    await inParallel(WARM_UP, IN_FLIGHT, run)
    latencies.length = 0
    const started = performance.now()
    await inParallel(N, IN_FLIGHT, run)
    const seconds = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    return { perSecond: N / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), seconds }
  } finally {
    await camunda.closeAllClients()
  }
}

async function measureWaitingHeap(server: Server): Promise<void> {
  const camunda = connect(server.grpcPort)
  const zeebe = camunda.getZeebeGrpcApiClient()
  try {
    await zeebe.deployResource({ process: Buffer.from(WAITING_BPMN), name: 'bench-waiting.bpmn' })
    // One instance first, so that code paths and caches are warm before the baseline.
    await zeebe.createProcessInstance({ bpmnProcessId: 'bench-waiting', variables: { correlationId: 'warm-up' } })
    const before = await heapUsed(server)
    const started = performance.now()
    await inParallel(WAITING, WAITING_IN_FLIGHT, async (index) => {
      await zeebe.createProcessInstance({ bpmnProcessId: 'bench-waiting', variables: { correlationId: `waiting-${index}` } })
    })
    const seconds = (performance.now() - started) / 1000
    const after = await heapUsed(server)
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
    console.log(`waiting:  ${WAITING} instances (P1D timer + message each) created in ${seconds.toFixed(1)} s`)
    console.log(`          heapUsed ${mb(before.heapUsed)} MB -> ${mb(after.heapUsed)} MB${after.collected ? ' (after gc)' : ''}`)
    console.log(`          ${Math.round((after.heapUsed - before.heapUsed) / WAITING)} bytes per waiting instance`)
  } finally {
    await camunda.closeAllClients()
  }
}

function describe(name: string, t: Throughput): string {
  return `${name} ${N} instances in ${t.seconds.toFixed(1)} s: ${Math.round(t.perSecond)} instances/s; ` +
    `job latency p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms`
}

async function main(): Promise<void> {
  console.log(`bench:engine: ${N} instances, ${IN_FLIGHT} in flight, streamJobs worker (warm-up ${WARM_UP})`)
  const engineArgs = ['engine', '--in-memory', '--grpc-port', '0', '--rest-port', '0']

  let server = await forkServer('bin/raccord.js', engineArgs)
  const engine = await measureThroughput(server.grpcPort).finally(() => stopServer(server))
  console.log(describe('engine:  ', engine))

  server = await forkServer('bench/stub-gateway.ts', ['--port', '0'])
  const stub = await measureThroughput(server.grpcPort).finally(() => stopServer(server))
  console.log(describe('stub:    ', stub))
  console.log(`ratio:    engine/stub throughput ${(engine.perSecond / stub.perSecond).toFixed(2)}`)

  server = await forkServer('bin/raccord.js', engineArgs)
  await measureWaitingHeap(server).finally(() => stopServer(server))
}

main().catch((error: unknown) => {
  console.error('bench:engine failed:', error)
  process.exit(1)
})
