/**
 * A `raccord start` killed (SIGKILL) after it recorded an incident and a cut but before it stored
 * their process keys: the next start finishes those starts, so no record stays "open" without a
 * process, and no process is started twice. The engine runs as its own process and is frozen
 * (SIGSTOP) while the requests are in flight, so raccord is killed exactly in that window.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import type { SmtpSink } from '../../src/notify'
import type { TestClient } from '../support/engine-harness'
import { connect, startEngineProcess, type EngineProcess } from '../support/engine-process'
import { startTestSmtp } from '../support/smtp-sink'

jest.setTimeout(180_000)

const ROOT = join(__dirname, '../..')
const CLI = join(ROOT, 'bin/raccord.js')
const TOKENS = { RACCORD_TOKEN_OPERATOR: 'operator-token-kill', RACCORD_TOKEN_MANAGER: 'manager-token-kill', RACCORD_TOKEN_ADMIN: 'admin-token-kill' }
const WAIT_MS = 60_000

let scratch: string
let engine: EngineProcess
let client: TestClient
let smtp: SmtpSink

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'raccord-pending-start-'))
  engine = await startEngineProcess(join(scratch, 'engine'))
  client = await connect(engine)
  smtp = await startTestSmtp()
})

afterAll(async () => {
  await client?.close()
  await engine?.kill('SIGTERM')
  await smtp?.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

interface RunningStart { apiUrl: string; child: ChildProcess; exited: Promise<unknown> }

/** `raccord start` against the engine process, until it prints where its API is. */
async function startRaccord(configFile: string, dataDir: string): Promise<RunningStart> {
  const inherited = Object.entries(process.env).filter(([name]) => !/^(ZEEBE_|CAMUNDA_|RACCORD_|SMTP_URL$)/.test(name))
  const env = {
    ...Object.fromEntries(inherited), ...TOKENS, RACCORD_CONFIG: configFile, SMTP_URL: smtp.url,
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${engine.grpcPort}`, ZEEBE_REST_ADDRESS: `http://127.0.0.1:${engine.restPort}`, CAMUNDA_AUTH_STRATEGY: 'NONE',
  }
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raccord start did not come up within ${WAIT_MS} ms:\n${output}`)), WAIT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const api = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/incidents.*\n/.exec(output)
      if (!api) return
      clearTimeout(timer)
      resolve({ apiUrl: api[1], child, exited })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`raccord start exited (${String(code)}) before serving:\n${output}`))
    })
  })
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKENS.RACCORD_TOKEN_ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await response.json()) as T
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function instancesWith(processDefinitionId: string, name: string, value: string): Promise<string[]> {
  const found = await client.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: Array<{ processInstanceKey: string }> }>({
    method: 'POST', urlPath: 'process-instances/search',
    body: { filter: { processDefinitionId, variables: [{ name, value: JSON.stringify(value) }] } },
  })
  return found.items.map((item) => item.processInstanceKey)
}

test('SIGKILL between recording an incident and a cut and storing their process keys: the next start finishes each start once', async () => {
  const config = parse(readFileSync(join(ROOT, 'raccord.config.yaml'), 'utf8')) as { api: { port: number } }
  config.api.port = 0
  const configFile = join(scratch, 'raccord.config.yaml')
  await writeFile(configFile, stringify(config))
  const dataDir = join(scratch, 'raccord-data')

  // given: raccord records an incident and a cut while the engine cannot answer
  const first = await startRaccord(configFile, dataDir)
  process.kill(engine.pid, 'SIGSTOP')
  let incidentId: string
  let cutId: string
  try {
    const inFlight = [
      api(first.apiUrl, 'POST', '/api/incidents', { title: 'Alpha down', description: 'killed mid-start', service: 'demarches-alpha', impact: 'high', urgency: 'high' }),
      api(first.apiUrl, 'POST', '/api/cuts', { interconnectionId: 'alpha-prod', reason: 'killed mid-start' }),
    ]
    // The requests die with the process: their failure is expected.
    for (const request of inFlight) request.catch(() => undefined)
    incidentId = await waitFor('the incident recorded', async () => (await api<{ items: Array<{ id: string }> }>(first.apiUrl, 'GET', '/api/incidents')).items[0]?.id)
    cutId = await waitFor('the cut recorded', async () => (await api<{ items: Array<{ id: string }> }>(first.apiUrl, 'GET', '/api/cuts')).items[0]?.id)
    // when: killed before either process key is stored
    first.child.kill('SIGKILL')
    await first.exited
  } finally {
    process.kill(engine.pid, 'SIGCONT')
  }

  // then: the next start finishes both starts before it serves
  const second = await startRaccord(configFile, dataDir)
  try {
    const incident = await api<{ id: string; processInstanceKey: string | null }>(second.apiUrl, 'GET', `/api/incidents/${incidentId}`)
    const cut = await api<{ id: string; processInstanceKey?: string }>(second.apiUrl, 'GET', `/api/cuts/${cutId}`)
    expect(incident.processInstanceKey).toEqual(expect.any(String))
    expect(cut.processInstanceKey).toEqual(expect.any(String))
    // Each has exactly one process, whether the frozen engine had started it before the kill or not.
    expect(await instancesWith('incident-management', 'incidentId', incidentId)).toEqual([incident.processInstanceKey])
    expect(await instancesWith('interconnection-cut', 'cutId', cutId)).toEqual([cut.processInstanceKey])
  } finally {
    second.child.kill('SIGTERM')
    await second.exited
  }
})
