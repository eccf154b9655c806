/**
 * The loopback /v2 API cannot be driven by a web page: a browser on this machine sends a page's
 * cross-origin requests with an Origin header, and a DNS-rebound name with a foreign Host. The
 * requests below are the ones such a page can send without asking (simple requests: a form post,
 * a text/plain body, a bodyless POST); the SDK, which sends neither Origin nor a foreign Host,
 * keeps working.
 */
import http from 'node:http'
import { startEngineServer, type EngineServer } from '../../src/engine/server'
import { engineTestKit, eventually, stillAfterSettling } from '../support/engine-test-kit'

const PROCESS_ID = 'access-user-task'
const USER_TASK_BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${PROCESS_ID}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`
const EVIL_ORIGIN = 'http://evil.example'

const kit = engineTestKit()
const { client, engine } = kit

interface Answer { status: number; type: string | undefined; problem: { title: string; status: number; detail: string } }

/** One HTTP request with exactly the headers given (fetch would not let a test choose Host). */
function request(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer, address = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], problem: (text.startsWith('{') ? JSON.parse(text) : {}) as Answer['problem'] })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const v2 = (method: string, path: string, headers: Record<string, string>, body?: string | Buffer) =>
  request(engine.restPort, method, `/v2${path}`, { host: `127.0.0.1:${engine.restPort}`, ...headers }, body)

/** A multipart deployment body, as an HTML form or a page's fetch would send it. */
function multipartDeployment(): { contentType: string; body: Buffer } {
  const boundary = 'raccord-test-boundary'
  const body = Buffer.from([
    `--${boundary}`,
    'Content-Disposition: form-data; name="resources"; filename="page.bpmn"',
    'Content-Type: application/octet-stream',
    '',
    USER_TASK_BPMN.replace(PROCESS_ID, 'deployed-by-a-page'),
    `--${boundary}--`,
    '',
  ].join('\r\n'))
  return { contentType: `multipart/form-data; boundary=${boundary}`, body }
}

async function startWithUserTask(): Promise<{ processInstanceKey: string; userTaskKey: string }> {
  const processInstanceKey = await kit.startInstance(PROCESS_ID)
  const rest = client.camunda.getCamundaRestClient()
  const userTaskKey = await eventually(async () => {
    const { items } = await rest.searchUserTasks({ filter: { processInstanceKey } })
    expect(items).toHaveLength(1)
    return items[0].userTaskKey
  })
  return { processInstanceKey, userTaskKey }
}

function expectProblem(answer: Answer, status: number, detail: string): void {
  expect(answer.status).toBe(status)
  expect(answer.type).toContain('application/problem+json')
  expect(answer.problem.status).toBe(status)
  expect(answer.problem.detail).toContain(detail)
}

beforeAll(async () => {
  await client.zeebe.deployResource({ name: `${PROCESS_ID}.bpmn`, process: Buffer.from(USER_TASK_BPMN) })
})

describe('a web page on another origin', () => {
  test('cannot deploy with a multipart form post (403)', async () => {
    const { contentType, body } = multipartDeployment()

    const answer = await v2('POST', '/deployments', { origin: EVIL_ORIGIN, 'content-type': contentType }, body)

    expectProblem(answer, 403, `'${EVIL_ORIGIN}'`)
    const definitions = await kit.search<{ processDefinitionId: string }>('process-definitions', { processDefinitionId: 'deployed-by-a-page' })
    expect(definitions).toEqual([])
  })

  test('cannot complete a user task with a text/plain body (403)', async () => {
    const { processInstanceKey, userTaskKey } = await startWithUserTask()

    const answer = await v2('POST', `/user-tasks/${userTaskKey}/completion`, { origin: EVIL_ORIGIN, 'content-type': 'text/plain' }, '{}')

    expectProblem(answer, 403, 'web page origin')
    await stillAfterSettling(async () => expect(await kit.instanceState(processInstanceKey)).toBe('ACTIVE'))
  })

  test('cannot cancel an instance with a bodyless POST (403)', async () => {
    const { processInstanceKey } = await startWithUserTask()

    const answer = await v2('POST', `/process-instances/${processInstanceKey}/cancellation`, { origin: EVIL_ORIGIN })

    expectProblem(answer, 403, 'web page origin')
    await stillAfterSettling(async () => expect(await kit.instanceState(processInstanceKey)).toBe('ACTIVE'))
  })

  test('an opaque origin (a sandboxed frame sends "null") is refused too', async () => {
    const answer = await v2('GET', '/topology', { origin: 'null' })

    expectProblem(answer, 403, "'null'")
  })
})

test('a foreign Host (DNS rebinding) is answered 421, whatever the port', async () => {
  const answer = await request(engine.restPort, 'GET', '/v2/topology', { host: `rebind.evil.example:${engine.restPort}` })

  expectProblem(answer, 421, "'rebind.evil.example:")
  expect(answer.problem.title).toBe('MISDIRECTED_REQUEST')
})

test.each(['localhost', '127.0.0.1', '[::1]'])('the loopback name %s is accepted, with or without port', async (name) => {
  expect((await request(engine.restPort, 'GET', '/v2/topology', { host: `${name}:${engine.restPort}` })).status).toBe(200)
  expect((await request(engine.restPort, 'GET', '/v2/topology', { host: name })).status).toBe(200)
})

test("the server's own origin is accepted", async () => {
  const answer = await v2('GET', '/topology', { origin: `http://127.0.0.1:${engine.restPort}` })

  expect(answer.status).toBe(200)
})

test('a JSON endpoint refuses a body that is not application/json (415), even without an Origin', async () => {
  const { processInstanceKey, userTaskKey } = await startWithUserTask()

  const answer = await v2('POST', `/user-tasks/${userTaskKey}/completion`, { 'content-type': 'text/plain' }, '{}')

  expectProblem(answer, 415, "Expected a body of type application/json, but it was 'text/plain'")
  await stillAfterSettling(async () => expect(await kit.instanceState(processInstanceKey)).toBe('ACTIVE'))
})

test('a deployment must be multipart (415 for a JSON body)', async () => {
  const answer = await v2('POST', '/deployments', { 'content-type': 'application/json' }, '{}')

  expectProblem(answer, 415, "Expected a body of type multipart/form-data, but it was 'application/json'")
})

test('the SDK (no Origin, a loopback Host, JSON bodies) completes a user task and cancels an instance', async () => {
  const rest = client.camunda.getCamundaRestClient()
  const first = await startWithUserTask()
  const second = await startWithUserTask()

  await rest.completeUserTask({ userTaskKey: first.userTaskKey, variables: { approved: true } })
  await rest.cancelProcessInstance({ processInstanceKey: second.processInstanceKey })

  await kit.expectInstanceState(first.processInstanceKey, 'COMPLETED')
  await kit.expectInstanceState(second.processInstanceKey, 'TERMINATED')
})

describe('configured names and origins', () => {
  let configured: EngineServer

  beforeAll(async () => {
    configured = await startEngineServer({
      grpcPort: 0, restPort: 0, allowedHosts: ['raccord.internal'], allowedOrigins: ['https://console.example'],
    })
  })
  afterAll(() => configured.close())

  test('a listed Host name and a listed Origin are accepted', async () => {
    const answer = await request(configured.restPort, 'GET', '/v2/topology', { host: 'raccord.internal:8080', origin: 'https://console.example' })

    expect(answer.status).toBe(200)
  })

  test('an unlisted Origin is still refused', async () => {
    const answer = await request(configured.restPort, 'GET', '/v2/topology', { host: 'raccord.internal', origin: EVIL_ORIGIN })

    expectProblem(answer, 403, 'RACCORD_ENGINE_ALLOWED_ORIGINS')
  })
})

test('the address the engine listens on is accepted as Host', async () => {
  // 127.0.0.2 is loopback (no credentials needed) but not one of the names accepted by default.
  const bound = await startEngineServer({ grpcPort: 0, restPort: 0, host: '127.0.0.2' })
  try {
    const answer = await request(bound.restPort, 'GET', '/v2/topology', { host: `127.0.0.2:${bound.restPort}` }, undefined, '127.0.0.2')

    expect(answer.status).toBe(200)
  } finally {
    await bound.close()
  }
})
