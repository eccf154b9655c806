/**
 * raccord in remote mode, the way it runs against Camunda 8.8: every command a child process
 * configured only by the SDK's environment (ZEEBE_GRPC_ADDRESS, ZEEBE_REST_ADDRESS,
 * CAMUNDA_AUTH_STRATEGY). The cluster here is the embedded engine on free ports, never the
 * defaults, so nothing reaches it except through those addresses: `raccord deploy`, `raccord
 * start` with an incident run through its API, and the process-test harness with
 * RACCORD_TEST_TARGET=remote.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { processResources, PROCESSES_DIR } from '../../src/wiring/deploy'
import type { SmtpSink } from '../../src/notify'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../support/engine-harness'
import { startTestSmtp } from '../support/smtp-sink'

const ROOT = join(__dirname, '../..')
const CLI = join(ROOT, 'bin/raccord.js')
const JEST = require.resolve('jest/bin/jest')
const TOKENS = { RACCORD_TOKEN_OPERATOR: 'operator-token-remote', RACCORD_TOKEN_MANAGER: 'manager-token-remote', RACCORD_TOKEN_ADMIN: 'admin-token-remote' }
const WAIT_MS = 60_000
// Child processes start tsx, the SDK and a cluster connection each: slow on a busy machine.
jest.setTimeout(180_000)

let engine: TestEngine
let client: TestClient
let scratch: string

beforeAll(async () => {
  engine = await startTestEngine()
  client = createTestClient(engine)
  scratch = await mkdtemp(join(tmpdir(), 'raccord-remote-'))
})

afterAll(async () => {
  await client?.close()
  await engine?.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

/** The SDK's own settings for a cluster at `target`: what a user sets for Camunda 8.8. */
function clusterEnv(target: Pick<TestEngine, 'grpcPort' | 'restPort'>): Record<string, string> {
  return {
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${target.grpcPort}`,
    ZEEBE_REST_ADDRESS: `http://127.0.0.1:${target.restPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
  }
}

/** This process's environment without any SDK, raccord or SMTP setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !/^(ZEEBE_|CAMUNDA_|RACCORD_|SMTP_URL$|JEST_WORKER_ID$)/.test(name))
  return { ...Object.fromEntries(inherited), ...extra }
}

interface Finished { code: number | null; stdout: string; stderr: string }

/** Run a command to its end, at most `timeoutMs`. */
function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A running `raccord start`. */
interface RunningStart {
  apiUrl: string
  output(): string
  stop(): Promise<number | null>
}

/** Start `raccord start ...args` and wait for its "what is where" lines. */
function startRaccord(args: string[], env: NodeJS.ProcessEnv): Promise<RunningStart> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`raccord start did not come up within ${WAIT_MS} ms:\n${output}`))
    }, WAIT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      // The banner ends with an empty line: wait for it, so its token lines are in.
      const api = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/incidents.*\n[\s\S]*?\n\n/.exec(output)
      if (!api) return
      clearTimeout(timer)
      resolve({
        apiUrl: api[1],
        output: () => output,
        stop: async () => {
          child.kill('SIGTERM')
          return exited
        },
      })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`raccord start exited (code ${code}) before serving:\n${output}`))
    })
  })
}

/** raccord.config.yaml with the API on a free port, in the scratch dir. */
async function configOnFreePort(): Promise<string> {
  const config = parse(readFileSync(join(ROOT, 'raccord.config.yaml'), 'utf8')) as { api: { port: number } }
  config.api.port = 0
  const file = join(scratch, 'raccord.config.yaml')
  await writeFile(file, stringify(config))
  return file
}

function search<T>(on: TestClient, entity: string, filter: Record<string, unknown>): Promise<{ items: T[] }> {
  return on.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: T[] }>({
    method: 'POST', urlPath: `${entity}/search`, body: { filter },
  })
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('raccord deploy', () => {
  test('deploys processes/ in one deployment and prints each resource\'s id, key and version, as the engine knows them', async () => {
    // when
    const result = await run([CLI, 'deploy'], childEnv(clusterEnv(engine)), 30_000)
    // then
    expect(result.stderr).not.toContain('raccord deploy:')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`to gRPC grpc://127.0.0.1:${engine.grpcPort}, REST http://127.0.0.1:${engine.restPort} (auth NONE)`)
    const files = processResources(PROCESSES_DIR).map((resource) => Object.values(resource)[0] as string)
    expect(result.stdout).toMatch(new RegExp(`deployment \\d+ \\(tenant <default>\\): \\d+ resources`))
    const line = (kind: string, id: string) => {
      const match = new RegExp(`^  ${kind} +${id} +key (\\d+) +version (\\d+)`, 'm').exec(result.stdout)
      if (!match) throw new Error(`no line for ${kind} ${id} in:\n${result.stdout}`)
      return { key: match[1], version: Number(match[2]) }
    }
    for (const file of files.filter((name) => name.endsWith('.bpmn'))) {
      const id = file.slice(file.lastIndexOf('/') + 1, -'.bpmn'.length)
      const printed = line('process', id)
      const known = await search<{ processDefinitionKey: string; version: number }>(client, 'process-definitions', { processDefinitionId: id })
      expect(known.items).toEqual([expect.objectContaining({ processDefinitionKey: printed.key, version: printed.version })])
    }
    for (const file of files.filter((name) => name.endsWith('.dmn'))) {
      const id = file.slice(file.lastIndexOf('/') + 1, -'.dmn'.length)
      const printed = line('decision', id)
      const known = await search<{ decisionDefinitionKey: string; version: number }>(client, 'decision-definitions', { decisionDefinitionId: id })
      expect(known.items).toEqual([expect.objectContaining({ decisionDefinitionKey: printed.key, version: printed.version })])
    }
    for (const file of files.filter((name) => name.endsWith('.form'))) {
      line('form', file.slice(file.lastIndexOf('/') + 1, -'.form'.length))
    }
  })

  test('an invalid resource: exit status 1, the engine\'s own error text, and nothing of the directory deployed', async () => {
    // given a directory with a valid process and a broken one
    const dir = join(scratch, 'invalid')
    await mkdir(dir)
    await writeFile(join(dir, 'prod-valid.bpmn'), bpmn('prod-valid', '<bpmn:startEvent id="start"/>'))
    await writeFile(join(dir, 'prod-broken.bpmn'), bpmn('prod-broken',
      '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="to-nowhere" sourceRef="start" targetRef="nowhere"/>'))
    const engineSays = await client.zeebe.deployResources([{ processFilename: join(dir, 'prod-broken.bpmn') }])
      .then(() => 'accepted', (error: { details: string }) => error.details)
    expect(engineSays).toContain('nowhere')
    // when
    const result = await run([CLI, 'deploy', '--processes-dir', dir], childEnv(clusterEnv(engine)), 30_000)
    // then
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`raccord deploy: the engine refused the deployment of ${dir}:\n`)
    expect(result.stderr).toContain(engineSays)
    expect(result.stdout).not.toContain('deployment ')
    expect((await search(client, 'process-definitions', { processDefinitionId: 'prod-valid' })).items).toEqual([])
  })

  test('a directory with nothing to deploy, or none at all: exit status 1, and why', async () => {
    const empty = join(scratch, 'empty')
    await mkdir(empty)
    const none = await run([CLI, 'deploy', '--processes-dir', empty], childEnv(clusterEnv(engine)), 30_000)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain(`${empty} holds no .bpmn, .dmn or .form file`)
    const missing = await run([CLI, 'deploy', '--processes-dir', join(scratch, 'missing')], childEnv(clusterEnv(engine)), 30_000)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('is not a directory')
  })
})

describe('raccord start in remote mode', () => {
  let smtp: SmtpSink

  beforeAll(async () => {
    smtp = await startTestSmtp()
  })

  afterAll(async () => {
    await smtp?.close()
  })

  test('runs no engine of its own, deploys, and takes an incident from the API to the restore-service task', async () => {
    // given raccord started with the SDK's environment naming the cluster
    const dataDir = join(scratch, 'start-data')
    const env = childEnv({ ...clusterEnv(engine), ...TOKENS, RACCORD_CONFIG: await configOnFreePort(), SMTP_URL: smtp.url })
    const raccord = await startRaccord(['--data-dir', dataDir], env)
    try {
      expect(raccord.output()).toContain(`engine        Camunda cluster: gRPC grpc://127.0.0.1:${engine.grpcPort}, REST http://127.0.0.1:${engine.restPort}, auth NONE`)
      expect(raccord.output()).not.toMatch(/engine +embedded/)
      expect(raccord.output()).toMatch(/deployed {6}processes\/.*incident-management\.bpmn/)
      // No engine state in the data dir: only raccord's own files.
      expect(await readdir(dataDir)).not.toContain('engine.db')
      // The tokens it made are named by their file, never printed: the output often ends in a log.
      const made = (await readdir(join(dataDir, 'secrets'))).filter((name) => name.startsWith('token-'))
      expect(made.length).toBeGreaterThan(0)
      for (const name of made) {
        expect(raccord.output()).toContain(join(dataDir, 'secrets', name))
        expect(raccord.output()).not.toContain((await readFile(join(dataDir, 'secrets', name), 'utf8')).trim())
      }
      // when an operator declares an incident
      const declared = await fetch(`${raccord.apiUrl}/api/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.RACCORD_TOKEN_OPERATOR}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Démarches Alpha indisponibles', description: '502 à la soumission', service: 'demarches-alpha', impact: 'high', urgency: 'medium' }),
      })
      expect(declared.status).toBe(201)
      const incident = await declared.json() as { id: string; processInstanceKey: string }
      // then the process, on the cluster, waits at restore-service, with its priority from the DMN
      const view = await waitFor('the incident waiting at restore-service', async () => {
        const answer = await fetch(`${raccord.apiUrl}/api/incidents/${incident.id}`, { headers: { authorization: `Bearer ${TOKENS.RACCORD_TOKEN_MANAGER}` } })
        const body = await answer.json() as { priority?: { priority: string }; process?: { waitingAt: Array<{ elementId: string }> } }
        return body.process?.waitingAt.some((element) => element.elementId === 'restore-service') ? body : undefined
      })
      expect(view.priority).toEqual(expect.objectContaining({ priority: 'P2' }))
      const tasks = await search<{ userTaskKey: string }>(client, 'user-tasks', { processInstanceKey: incident.processInstanceKey, elementId: 'restore-service', state: 'CREATED' })
      expect(tasks.items).toHaveLength(1)
      // and raccord's worker, fed by the cluster, told the provider by mail
      await waitFor('the declaration mail', async () => smtp.list().find((mail) => mail.subject.includes(incident.id)))
    } finally {
      expect(await raccord.stop()).toBe(0)
    }
  })

  test('--no-deploy leaves the cluster\'s deployments alone', async () => {
    // given a cluster with nothing deployed
    const bare = await startTestEngine()
    const bareClient = createTestClient(bare)
    try {
      const env = childEnv({ ...clusterEnv(bare), ...TOKENS, RACCORD_CONFIG: await configOnFreePort(), SMTP_URL: smtp.url })
      // when
      const raccord = await startRaccord(['--data-dir', join(scratch, 'no-deploy-data'), '--no-deploy'], env)
      // then
      expect(raccord.output()).toContain('deployed      nothing (--no-deploy)')
      expect((await search(bareClient, 'process-definitions', {})).items).toEqual([])
      expect(await raccord.stop()).toBe(0)
    } finally {
      await bareClient.close()
      await bare.close()
    }
  })
})

describe('the process-test harness in remote mode', () => {
  test('runs its own test file against the cluster named by the SDK\'s environment, through public APIs only', async () => {
    // when jest runs the harness tests with RACCORD_TEST_TARGET=remote
    const result = await run([JEST, '--runInBand', '--ci', '--coverage=false', 'test/harness/harness.test.ts'],
      childEnv({ ...clusterEnv(engine), RACCORD_TEST_TARGET: 'remote', RACCORD_TEST_TIMEOUT_MS: '10000' }), 120_000)
    // then they all pass
    const summary = /^Tests:.*$/m.exec(result.stderr)?.[0] ?? result.stderr
    expect(summary).toMatch(/^Tests: +\d+ passed, \d+ total$/)
    expect(result.code).toBe(0)
    // and they ran here: their models are deployed on this engine
    expect((await search(client, 'process-definitions', { processDefinitionId: 'review-process' })).items).toHaveLength(1)
  })
})

function bpmn(processId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="definitions-${processId}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${processId}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>
`
}
