/**
 * The bench's `large` section: the state that broke the engine when issue 19 was filed. Then, 185
 * waiting instances holding a 3 MB variable each (within the 4 MB payload limit) put the state past
 * the longest string V8 can build; every periodic snapshot froze the engine for seconds and failed,
 * the log was never trimmed, and SIGTERM exited 1. Here: BENCH_LARGE (185) instances of the waiting
 * process, each with a BENCH_LARGE_MB (3) MB variable, created BENCH_LARGE_IN_FLIGHT (4) at a time
 * on a durable engine, a REST poll every 20 ms meanwhile, then SIGTERM (its time and exit code), a
 * restart, a check that every instance and a whole variable came back, SIGKILL and a restart again.
 */
import type { Camunda8 } from '@camunda8/sdk'
import {
  connect, count, describeCauses, describePauses, describeStalls, dirBytes, forkServer, inParallel, mark, mb, restart, sleep,
  startStallProbe, stats, stopServer, ENGINE_SCRIPT, type Server, type StallReport, type Stats,
} from './servers'

const LARGE = Number(process.env.BENCH_LARGE ?? 185)
const LARGE_MB = Number(process.env.BENCH_LARGE_MB ?? 3)
const LARGE_IN_FLIGHT = Number(process.env.BENCH_LARGE_IN_FLIGHT ?? 4)
/** After the creations, the probe keeps polling this long: the checkpoints that write the last ones come within a second. */
const SETTLE_MS = 3_000

/** POST to the engine's /v2 API; the parsed answer, or an Error naming the status and the body. */
async function post<T>(restPort: number, route: string, body: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${restPort}/v2${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`POST /v2${route}: ${response.status} ${await response.text()}`)
  return await response.json() as T
}

/** How many instances of the waiting process are active. */
async function activeCount(restPort: number): Promise<number> {
  const instances = await post<{ page: { totalItems: number } }>(restPort, '/process-instances/search',
    { filter: { processDefinitionId: 'bench-waiting', state: 'ACTIVE' }, page: { limit: 1 } })
  return instances.page.totalItems
}

/** How many instances of the waiting process are active, and the length of one stored variable `payload` in full. */
async function whatCameBack(restPort: number): Promise<{ active: number; payloadLength: number }> {
  const active = await activeCount(restPort)
  const variables = await post<{ items: { variableKey: string }[] }>(restPort, '/variables/search', { filter: { name: 'payload' }, page: { limit: 1 } })
  const key = variables.items[0]?.variableKey
  if (key === undefined) return { active, payloadLength: 0 }
  const response = await fetch(`http://127.0.0.1:${restPort}/v2/variables/${key}`)
  const variable = await response.json() as { value: string }
  return { active, payloadLength: (JSON.parse(variable.value) as string).length }
}

/** Waits for `server` to exit after `signal`: the ms it took and its exit code. */
async function stopWith(server: Server, signal: NodeJS.Signals): Promise<{ ms: number; code: number | null }> {
  const ms = await stopServer(server, signal)
  return { ms, code: server.child.exitCode }
}

/**
 * Runs `work` with a client of `server`, a REST poll every 20 ms meanwhile and SETTLE_MS after:
 * its time, what it returned, the polls' figures and the engine's stats.
 */
async function probed<T>(server: Server, work: (zeebe: ReturnType<Camunda8['getZeebeGrpcApiClient']>) => Promise<T>): Promise<{ seconds: number; value: T; stalls: StallReport; after: Stats }> {
  const probe = await startStallProbe(server.restPort as number)
  const camunda = connect(server.grpcPort)
  const started = performance.now()
  let value: T
  try {
    value = await work(camunda.getZeebeGrpcApiClient())
  } finally {
    await camunda.closeAllClients()
  }
  const seconds = (performance.now() - started) / 1000
  await sleep(SETTLE_MS)
  const stalls = await probe.report()
  await probe.stop()
  return { seconds, value, stalls, after: await stats(server) }
}

/** Wakes every waiting instance by its message and waits until none is active: how many are left. */
async function endAll(server: Server): Promise<{ seconds: number; value: number; stalls: StallReport; after: Stats }> {
  return probed(server, async (zeebe) => {
    await inParallel(LARGE, LARGE_IN_FLIGHT, async (index) => {
      await zeebe.publishMessage({ name: 'bench-wake-up', correlationKey: `large-${index}`, timeToLive: 0, variables: {} })
    })
    let left = LARGE
    for (let waited = 0; waited < 120_000 && left > 0; waited += 100) {
      left = await activeCount(server.restPort as number)
      if (left > 0) await sleep(100)
    }
    return left
  })
}

/** Runs the section on a fresh `dataDir` with the waiting process `waitingBpmn`; prints as it goes and returns the targets' lines. */
export async function measureLargeState(dataDir: string, waitingBpmn: string): Promise<string[]> {
  const payload = 'x'.repeat(LARGE_MB * 1_000_000)
  console.log(`large state: ${count(LARGE)} waiting instances with a ${LARGE_MB} MB variable each (${count(LARGE * LARGE_MB)} MB of state, ${LARGE_IN_FLIGHT} creations in flight)`)
  let server = await forkServer(ENGINE_SCRIPT, ['engine', '--data-dir', dataDir, '--grpc-port', '0', '--rest-port', '0'])
  const { seconds, stalls, after } = await probed(server, async (zeebe) => {
    await zeebe.deployResource({ process: Buffer.from(waitingBpmn), name: 'bench-waiting.bpmn' })
    await inParallel(LARGE, LARGE_IN_FLIGHT, async (index) => {
      await zeebe.createProcessInstance({ bpmnProcessId: 'bench-waiting', variables: { correlationId: `large-${index}`, payload } })
    })
  })
  console.log(`  created in ${seconds.toFixed(1)} s (${(LARGE * LARGE_MB / seconds).toFixed(1)} MB/s); RSS ${mb(after.rss)} MB; data dir ${mb(dirBytes(dataDir))} MB`)
  console.log(`  ${describeStalls(stalls)} (creations and ${SETTLE_MS / 1000} s after)`)
  console.log(`  ${describePauses(after)}`)
  for (const line of describeCauses(stalls.slow, after.pauses.long ?? [])) console.log(`  ${line}`)

  const term = await stopWith(server, 'SIGTERM')
  let restarted = await restart(dataDir)
  server = restarted.server
  const afterTerm = { ...restarted.restart, ...await whatCameBack(server.restPort as number) }
  console.log(`  SIGTERM: stopped in ${count(term.ms)} ms, exit code ${String(term.code)}; data dir ${mb(dirBytes(dataDir))} MB; ` +
    `restart serving in ${count(afterTerm.servingMs)} ms, ${count(afterTerm.active)} active, a payload of ${count(afterTerm.payloadLength)} characters; RSS ${mb(afterTerm.after.rss)} MB`)
  console.log(`    ${afterTerm.recoveryLine}`)
  await stopServer(server, 'SIGKILL')
  restarted = await restart(dataDir)
  server = restarted.server
  const afterKill = { ...restarted.restart, ...await whatCameBack(server.restPort as number) }
  console.log(`  SIGKILL: restart serving in ${count(afterKill.servingMs)} ms, ${count(afterKill.active)} active, a payload of ${count(afterKill.payloadLength)} characters`)
  console.log(`    ${afterKill.recoveryLine}`)
  const ending = await endAll(server)
  const last = await stopWith(server, 'SIGTERM')
  console.log(`  every instance woken by its message and run to its end in ${ending.seconds.toFixed(1)} s, ${count(ending.value)} still active; then SIGTERM exit code ${String(last.code)}`)
  console.log(`    ${describeStalls(ending.stalls)}`)
  console.log(`    ${describePauses(ending.after)}`)
  for (const line of describeCauses(ending.stalls.slow, ending.after.pauses.long ?? [])) console.log(`    ${line}`)
  console.log('')

  const intact = [afterTerm, afterKill].every((r) => r.active === LARGE && r.payloadLength === payload.length)
  const longestBuild = after.pauses.checkpoints?.maxMs ?? NaN
  return [
    `  ${mark(longestBuild <= 50)} a checkpoint holds the event loop 50 ms at most, whatever the size (issue 19): ${longestBuild.toFixed(1)} ms at most with ${count(LARGE * LARGE_MB)} MB of variables`,
    `  ${mark(stalls.max <= 100)} no stall over 100 ms while ${count(LARGE * LARGE_MB)} MB of variables were created and checkpointed (issue 19): longest answer ${stalls.max.toFixed(1)} ms`,
    `  ${mark(term.code === 0 && last.code === 0)} SIGTERM exits 0 with ${count(LARGE * LARGE_MB)} MB of state (issue 19): ${String(term.code)} and ${String(last.code)}, stopped in ${count(term.ms)} ms`,
    `  ${mark(ending.stalls.max <= 100)} no stall over 100 ms while those instances ran to their end, their variables written to the history: longest answer ${ending.stalls.max.toFixed(1)} ms`,
    `  ${mark(intact)} every instance and a whole ${LARGE_MB} MB variable back after SIGTERM and after SIGKILL: ${count(afterTerm.active)} and ${count(afterKill.active)} of ${count(LARGE)}; restart ${(afterTerm.servingMs / 1000).toFixed(1)} s and ${(afterKill.servingMs / 1000).toFixed(1)} s`,
  ]
}
