/**
 * call-adapter without an engine: the adapter's webhook is a server on loopback that answers what
 * each test sets; index.ts's classifyFailure says what the SDK handler does with each failure.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { AdapterRejectedError, callAdapter } from '../../src/app/changes/change-adapters'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../../src/app/cuts/link-control'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import type { Config } from '../../src/config'
import { classifyFailure, isPermanent } from '../../workers'
import { handle, inputSchema, type Input } from '../../workers/call-adapter'
import { NOW, workerFixture, type WorkerFixture } from './fixtures'

const SECRET_ENV = 'RACCORD_TEST_CALL_ADAPTER_SECRET'
const SECRET = 'a-secret-long-enough-for-hmac'
const BACKOFF_MS = 1000

/** What the adapter received, and how it answers the next call. */
interface Received {
  path: string
  raw: string
  body: Record<string, unknown>
  idempotencyKey: string | undefined
  signature: string | undefined
  timestamp: string | undefined
}
const received: Received[] = []
let answerStatus = 204
/** when set, the adapter never answers (a hung gateway) */
let hang = false
const hung: http.ServerResponse[] = []

const server = http.createServer((req, res) => {
  let raw = ''
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()))
  req.on('end', () => {
    received.push({
      path: req.url ?? '',
      raw,
      body: JSON.parse(raw) as Record<string, unknown>,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      signature: req.headers[SIGNATURE_HEADER] as string | undefined,
      timestamp: req.headers[TIMESTAMP_HEADER] as string | undefined,
    })
    if (hang) hung.push(res)
    else res.writeHead(answerStatus).end()
  })
})
let url: string

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

let f: WorkerFixture

beforeEach(() => {
  process.env[SECRET_ENV] = SECRET
  received.length = 0
  answerStatus = 204
  hang = false
  f = workerFixture()
})
afterEach(() => {
  delete process.env[SECRET_ENV]
  for (const res of hung.splice(0)) res.destroy()
  f.close()
})

/** The fixture's configuration with one adapter switched to this test's webhook. */
function withWebhook(config: Config, name: 'portalVersions' | 'portalCatalogue' | 'providerRollback', path = `/${name}`): void {
  config.changes.adapters[name] = { type: 'webhook', url: `${url}${path}`, secretEnv: SECRET_ENV }
}

const retirement: Input = { reference: 'CHG-20250314-0001', version: '5.0', previousVersion: '4.9' }
const retireHeaders = { adapter: 'portalVersions', action: 'retire-previous-version' }

/** Runs the job as index.ts would and answers what the SDK handler does with it. */
async function attempt(input: Input, retries: number, key = '2251799813685300') {
  try {
    return { output: await handle(input, f.context({ key, retries, elementId: 'retire-previous-version', headers: retireHeaders })) }
  } catch (error) {
    return { failure: classifyFailure(error, retries, BACKOFF_MS), error }
  }
}

describe('CHG-8, PRD-4, PRD-6: the adapter does the step', () => {
  test('CHG-8: given a webhook adapter answering 2xx, when n-1 is retired, then it is called once, signed, with an idempotency key of the reference and the job', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    // when
    const output = await handle(retirement, f.context({ key: '77', elementId: 'retire-previous-version', headers: retireHeaders }))
    // then
    expect(output).toEqual({ adapterOutcome: 'done' })
    expect(Object.keys(output)).toEqual(['adapterOutcome'])
    expect(received).toHaveLength(1)
    const [call] = received
    expect(call.path).toBe('/portalVersions')
    expect(call.body).toMatchObject({ action: 'retire-previous-version', reference: 'CHG-20250314-0001', version: '5.0', previousVersion: '4.9' })
    expect(call.idempotencyKey).toBe('CHG-20250314-0001:77')
    expect(call.signature).toBe(webhookSignature(SECRET, call.timestamp as string, call.raw))
  })

  test('CHG-8: given a job delivered twice, when it is handled again, then the adapter gets the same idempotency key, so it retires n-1 once', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    await handle(retirement, f.context({ key: '77', headers: retireHeaders }))
    // when
    await handle(retirement, f.context({ key: '77', headers: retireHeaders }))
    // then
    expect(received.map((call) => call.idempotencyKey)).toEqual(['CHG-20250314-0001:77', 'CHG-20250314-0001:77'])
  })

  test('CHG-8: given the worker clock, when the adapter is called, then the step and its signature timestamp are dated by that clock', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    // when
    await handle(retirement, f.context({ headers: retireHeaders }))
    // then
    expect(received[0].body.at).toBe(NOW.toISOString())
    expect(received[0].timestamp).toBe(String(NOW.getTime() / 1000))
  })

  test.each([
    ['PRD-4', 'portalCatalogue', 'show-service', { reference: 'OPN-20250314-0001', providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' }],
    ['PRD-6', 'providerRollback', 'roll-back', { reference: 'REL-20250314-0001', providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha', version: '2.1', previousVersion: '2.0' }],
  ] as const)('%s: given the %s adapter, when the step runs, then that adapter gets the action and the variables', async (_id, adapter, action, input) => {
    // given
    withWebhook(f.config, adapter)
    // when
    const output = await handle(input, f.context({ headers: { adapter, action } }))
    // then
    expect(output).toEqual({ adapterOutcome: 'done' })
    expect(received).toHaveLength(1)
    expect(received[0].path).toBe(`/${adapter}`)
    expect(received[0].body).toMatchObject({ action, ...input })
  })
})

describe('CHG-8, PRD-4, PRD-6: with no adapter, a person does the step', () => {
  test('CHG-8: given a manual adapter (the example configuration), when the step runs, then nothing is called and the process is told to ask a person', async () => {
    // given: the example configuration's adapters are all manual
    expect(f.config.changes.adapters.portalVersions).toEqual({ type: 'manual' })
    // when
    const output = await handle(retirement, f.context({ headers: retireHeaders }))
    // then
    expect(output).toEqual({ adapterOutcome: 'manual' })
    expect(received).toEqual([])
  })

  test('CHG-8: given a manual adapter, when the secret is not set either, then the answer is still manual', async () => {
    // given
    delete process.env[SECRET_ENV]
    // when
    const output = await handle(retirement, f.context({ headers: retireHeaders }))
    // then
    expect(output).toEqual({ adapterOutcome: 'manual' })
  })
})

describe('CHG-8: failures of the adapter', () => {
  test.each([400, 403, 409, 422])('CHG-8: given an adapter answering %i, when n-1 is retired, then the failure is permanent: an incident at once, no retry', async (status) => {
    // given
    withWebhook(f.config, 'portalVersions')
    answerStatus = status
    // when
    const { output, failure, error } = await attempt(retirement, 3)
    // then
    expect(output).toBeUndefined()
    expect(error).toBeInstanceOf(AdapterRejectedError)
    expect(isPermanent(error)).toBe(true)
    expect(failure).toMatchObject({ outcome: 'incident', retries: 0, retryBackOff: 0 })
    expect(failure?.errorMessage).toContain(`HTTP ${status}`)
    expect(received).toHaveLength(1)
  })

  test('CHG-8: given an adapter answering 503, when n-1 is retired, then the job is retried with an exponential backoff, and the last failure raises an incident', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    answerStatus = 503
    // when: the three attempts Zeebe gives a job
    const attempts = [await attempt(retirement, 3), await attempt(retirement, 2), await attempt(retirement, 1)]
    // then
    expect(attempts.map(({ failure }) => failure && [failure.outcome, failure.retries, failure.retryBackOff])).toEqual([
      ['retry', 2, BACKOFF_MS],
      ['retry', 1, 2 * BACKOFF_MS],
      ['incident', 0, 0],
    ])
    expect(attempts[0].failure?.errorMessage).toContain('answered 503')
    expect(isPermanent(attempts[0].error)).toBe(false)
    expect(received).toHaveLength(3)
    expect(new Set(received.map((call) => call.idempotencyKey)).size).toBe(1)
  })

  test('CHG-8: given an adapter that cannot be reached, when n-1 is retired, then the job is retried', async () => {
    // given: a port nobody listens on
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    f.config.changes.adapters.portalVersions = { type: 'webhook', url: `http://127.0.0.1:${port}/versions`, secretEnv: SECRET_ENV }
    // when
    const { failure } = await attempt(retirement, 3)
    // then
    expect(failure).toMatchObject({ outcome: 'retry', retries: 2, retryBackOff: BACKOFF_MS })
    expect(failure?.errorMessage).toContain('Cannot reach the adapter')
  })

  test('CHG-8: given an adapter that does not answer within the timeout, when it is called, then the failure is transient and retried', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    hang = true
    // when
    const error = await callAdapter(f.config.changes.adapters.portalVersions, {
      action: 'retire-previous-version', idempotencyKey: 'CHG-20250314-0001:77', body: { ...retirement }, env: process.env, timeoutMs: 200,
    }).catch((caught: unknown) => caught)
    // then
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/Cannot reach the adapter .* retire-previous-version/)
    expect(isPermanent(error)).toBe(false)
    expect(classifyFailure(error, 3, BACKOFF_MS)).toMatchObject({ outcome: 'retry', retries: 2, retryBackOff: BACKOFF_MS })
    expect(received).toHaveLength(1)
  })

  test('CHG-8: given a webhook adapter whose secret is not set, when n-1 is retired, then nothing is sent unsigned and an incident names the variable', async () => {
    // given
    withWebhook(f.config, 'portalVersions')
    delete process.env[SECRET_ENV]
    // when
    const { failure, error } = await attempt(retirement, 3)
    // then
    expect(error).toBeInstanceOf(AdapterRejectedError)
    expect(failure).toMatchObject({ outcome: 'incident', retries: 0 })
    expect(failure?.errorMessage).toContain(SECRET_ENV)
    expect(received).toEqual([])
  })
})

describe('the model is wrong: an incident, not a retry', () => {
  test.each([
    [{ adapter: 'portalVersion', action: 'retire-previous-version' }, /'portalVersion' is not one of portalVersions, portalCatalogue, providerRollback/],
    [{ action: 'retire-previous-version' }, /task header 'adapter' is missing/],
    [{ adapter: 'portalVersions' }, /task header 'action' is missing/],
  ])('given headers %j, when the job runs, then a JobInputError says what is wrong', async (headers, message) => {
    // when
    const run = handle(retirement, f.context({ headers }))
    // then
    await expect(run).rejects.toThrow(JobInputError)
    await expect(handle(retirement, f.context({ headers }))).rejects.toThrow(message)
    expect(received).toEqual([])
  })
})

test('the input schema lists exactly the variables the worker fetches', () => {
  expect(Object.keys(inputSchema.shape).sort()).toEqual(['previousVersion', 'providerId', 'reference', 'serviceId', 'version'])
})
