/**
 * Input at the edge of the engine that used to leave a call unanswered or break the engine: error
 * messages too long for a gRPC status, out-of-range message time-to-lives, and variables nested
 * deeper than the call stack. Each is refused with a clear answer, and the engine keeps serving.
 */
import { GrpcStatus, bpmnFixture, dmnFixture, engineTestKit, grpcFailure, until } from '../support/engine-test-kit'

const PROCESS_ID = 'one-service-task'
/** A key in the partition-1 range that no entity has. */
const UNKNOWN_KEY = '2251799813999999'
const INT64_MAX = '9223372036854775807'

const kit = engineTestKit()
const { client, engine } = kit

/** The SDK passes a string through unchanged, as another client could send it. */
const raw = (json: string): never => json as unknown as never

/** A variables document whose one variable nests `depth - 1` objects: `depth` levels in all. */
function nestedJson(depth: number): string {
  return `${'{"v":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`
}

/** The same document as an object (typed for any SDK call), for the SDK calls that serialise variables themselves. */
function nestedObject(depth: number): never {
  let document: Record<string, unknown> = {}
  for (let level = 1; level < depth; level++) document = { v: document }
  return document as never
}

const TOO_DEEP = nestedJson(5_000)
/** The SDK serialises variables recursively and overflows its own stack near 3,000 levels: 2,000 still passes the engine's limit. */
const TOO_DEEP_OBJECT = nestedObject(2_000)
const DEPTH_PROBLEM = 'Expected variables nested at most 1000 levels deep'

beforeAll(async () => {
  await client.zeebe.deployResource({ processFilename: bpmnFixture('one-service-task') })
  await client.zeebe.deployResource({ decisionFilename: dmnFixture('dish') })
})

async function rest(path: string, body: unknown): Promise<{ status: number; type: string | null; json: { title: string; detail: string } }> {
  const response = await fetch(`http://127.0.0.1:${engine.restPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, type: response.headers.get('content-type'), json: await response.json() as { title: string; detail: string } }
}

async function expectServing(): Promise<void> {
  const topology = await client.zeebe.topology()
  expect(topology.brokers).toHaveLength(1)
}

describe('gRPC error messages too long to send', () => {
  test('a 1 MB bpmnProcessId gets NOT_FOUND with the message truncated and marked', async () => {
    const bpmnProcessId = 'p'.repeat(1024 * 1024)

    const failure = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId, variables: {} }))

    expect(failure.code).toBe(GrpcStatus.NOT_FOUND)
    expect(failure.details).toMatch(/^Command 'CREATE' rejected with code 'NOT_FOUND'/)
    expect(failure.details).toMatch(/… \(truncated, \d+ more characters\)$/)
    expect(failure.details.length).toBeLessThan(5_000)
    await expectServing()
  })

  test('a deployment of 1,000 invalid resources gets INVALID_ARGUMENT with the message truncated', async () => {
    const resources = Array.from({ length: 1_000 }, (_, n) => ({
      name: `broken-${n}.bpmn`, process: Buffer.from(`<not-bpmn id="${n}">`),
    }))

    const failure = await grpcFailure(client.zeebe.deployResources(resources))

    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain('broken-0.bpmn')
    expect(failure.details).toMatch(/… \(truncated, \d+ more characters\)$/)
    await expectServing()
  })

  test('multi-byte characters count as they travel, percent-encoded', async () => {
    const failure = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: '流程'.repeat(50_000), variables: {} }))

    expect(failure.code).toBe(GrpcStatus.NOT_FOUND)
    expect(failure.details).toMatch(/… \(truncated, \d+ more characters\)$/)
  })

  test('a short message is sent whole', async () => {
    const failure = await grpcFailure(client.zeebe.createProcessInstance({ bpmnProcessId: 'no-such-process', variables: {} }))

    expect(failure.details).toContain("'no-such-process'")
    expect(failure.details).not.toContain('truncated')
  })
})

describe('message time-to-live bounds, the same over gRPC and REST', () => {
  const publishGrpc = (timeToLive: string | number) => grpcFailure(client.zeebe.publishMessage({
    name: 'ttl-check', correlationKey: 'k', variables: {}, timeToLive: raw(String(timeToLive)),
  }))

  test.each([
    ['negative', '-1'],
    ['int64 max', INT64_MAX],
  ])('a %s timeToLive is INVALID_ARGUMENT over gRPC and 400 over REST, in the same words', async (_what, ttl) => {
    const grpc = await publishGrpc(ttl)
    const overRest = await rest('/v2/messages/publication', `{"name":"ttl-check","correlationKey":"k","timeToLive":${ttl}}`)

    expect(grpc.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(grpc.details).toContain('Expected timeToLive to be an integer between 0 and 9007199254740991 ms')
    expect(overRest.status).toBe(400)
    expect(overRest.json.detail).toContain('Expected timeToLive to be an integer between 0 and 9007199254740991 ms')
  })

  test('the largest accepted timeToLive is accepted on both', async () => {
    await expect(client.zeebe.publishMessage({ name: 'ttl-check', correlationKey: 'k', variables: {}, timeToLive: Number.MAX_SAFE_INTEGER }))
      .resolves.toHaveProperty('key')
    expect((await rest('/v2/messages/publication', { name: 'ttl-check', correlationKey: 'k', timeToLive: Number.MAX_SAFE_INTEGER })).status).toBe(200)
  })
})

describe('variables nested deeper than the limit', () => {
  // Variables are parsed and checked at the gateway, before any key is looked up, as Zeebe's
  // gateway converts them to MessagePack before the broker sees the command.
  test.each([
    ['CreateProcessInstance', () => client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: TOO_DEEP_OBJECT })],
    ['CreateProcessInstanceWithResult', () => client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: PROCESS_ID, variables: TOO_DEEP_OBJECT })],
    ['CompleteJob', () => client.zeebe.completeJob({ jobKey: UNKNOWN_KEY, variables: TOO_DEEP_OBJECT })],
    ['FailJob', () => client.zeebe.failJob({ jobKey: UNKNOWN_KEY, retries: 1, errorMessage: 'x', retryBackOff: 0, variables: TOO_DEEP_OBJECT })],
    ['ThrowError', () => client.zeebe.throwError({ jobKey: UNKNOWN_KEY, errorCode: 'E', errorMessage: 'x', variables: TOO_DEEP_OBJECT })],
    ['SetVariables', () => client.zeebe.setVariables({ elementInstanceKey: UNKNOWN_KEY, variables: raw(TOO_DEEP), local: false })],
    ['PublishMessage', () => client.zeebe.publishMessage({ name: 'deep', correlationKey: 'k', variables: TOO_DEEP_OBJECT, timeToLive: 0 })],
    ['BroadcastSignal', () => client.zeebe.broadcastSignal({ signalName: 'deep', variables: TOO_DEEP_OBJECT })],
    ['EvaluateDecision', () => client.zeebe.evaluateDecision({ decisionId: 'st_dish', variables: TOO_DEEP_OBJECT })],
  ])('gRPC %s answers INVALID_ARGUMENT naming the limit', async (_method, call) => {
    const failure = await grpcFailure(call())

    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain(DEPTH_PROBLEM)
    await expectServing()
  })

  test.each([
    ['/v2/process-instances', { processDefinitionId: PROCESS_ID }],
    [`/v2/jobs/${UNKNOWN_KEY}/completion`, {}],
    [`/v2/jobs/${UNKNOWN_KEY}/failure`, { retries: 1 }],
    [`/v2/jobs/${UNKNOWN_KEY}/error`, { errorCode: 'E' }],
    [`/v2/element-instances/${UNKNOWN_KEY}/variables`, {}],
    ['/v2/messages/publication', { name: 'deep', correlationKey: 'k' }],
    ['/v2/messages/correlation', { name: 'deep', correlationKey: 'k' }],
    ['/v2/signals/broadcast', { signalName: 'deep' }],
    [`/v2/user-tasks/${UNKNOWN_KEY}/completion`, {}],
    ['/v2/decision-definitions/evaluation', { decisionDefinitionId: 'st_dish' }],
  ])('REST %s answers 400 problem JSON naming the limit', async (path, fields) => {
    const body = `${JSON.stringify(fields).slice(0, -1)}${Object.keys(fields).length > 0 ? ',' : ''}"variables":${TOO_DEEP}}`

    const answer = await rest(path, body)

    expect(answer.status).toBe(400)
    expect(answer.type).toContain('application/problem+json')
    expect(answer.json.title).toBe('INVALID_ARGUMENT')
    expect(answer.json.detail).toContain(DEPTH_PROBLEM)
    await expectServing()
  })

  test('variables exactly at the limit (1,000 levels) are stored and returned', async () => {
    const atLimit = nestedJson(1_000)
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: nestedObject(1_000) })
    kit.cancelAfterTest(processInstanceKey)

    const variables = await kit.variablesOf(processInstanceKey)

    expect(JSON.stringify(variables)).toBe(atLimit)
  })
})

describe('variables past 64 K characters, which the gRPC thread parses itself', () => {
  const PAD = 'p'.repeat(70_000)

  test.each([
    ['not JSON', `{"pad":"${PAD}",`, "is not valid JSON"],
    ['an array', `["${PAD}"]`, "Expected document to be a root level object, but was 'ARRAY'"],
    ['a string', `"${PAD}"`, "Expected document to be a root level object, but was 'STRING'"],
    ['nested too deep', `{"pad":"${PAD}","deep":${TOO_DEEP}}`, DEPTH_PROBLEM],
  ])('text %s gets INVALID_ARGUMENT naming the problem, as shorter text does', async (_kind, text, problem) => {
    // when variables are set from the long text (the SDK passes SetVariables' text through)
    const failure = await grpcFailure(client.zeebe.setVariables({ elementInstanceKey: UNKNOWN_KEY, variables: raw(text), local: false }))

    // then the call is refused, and the engine serves on
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain(`Property 'variables' is invalid: `)
    expect(failure.details).toContain(problem)
    await expectServing()
  })

  test('a long document is stored as sent, with CreateProcessInstanceWithResult too', async () => {
    // given a document past 64 K characters
    const variables = { pad: PAD, nested: { list: [1, 'é', null, { quote: '"\\\u2028' }] } }

    // when an instance is created with it, and another one awaiting its result
    const { processInstanceKey } = await client.zeebe.createProcessInstance({ bpmnProcessId: PROCESS_ID, variables: variables as never })
    kit.cancelAfterTest(processInstanceKey)
    const withResult = client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: PROCESS_ID, variables: variables as never, requestTimeout: 60_000 })
    const jobs = await until('the second instance\'s job', async () => {
      const activated = await client.zeebe.activateJobs({ type: 'gateway-work', maxJobsToActivate: 5, timeout: 60_000, worker: 'test', requestTimeout: 1_000 })
      return activated.find((job) => job.processInstanceKey !== processInstanceKey && (job.variables as { pad?: string }).pad === PAD)
    })
    await client.zeebe.completeJob({ jobKey: jobs.key, variables: {} })

    // then both hold it as sent
    expect(await kit.variablesOf(processInstanceKey)).toEqual(variables)
    expect((await withResult).variables).toEqual(variables)
  })
})
