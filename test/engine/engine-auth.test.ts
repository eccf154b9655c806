/**
 * An engine that listens beyond loopback requires credentials, which the unmodified SDK sends with
 * its own settings: CAMUNDA_AUTH_STRATEGY=BASIC, CAMUNDA_BASIC_AUTH_USERNAME and
 * CAMUNDA_BASIC_AUTH_PASSWORD (Camunda 8.8's basic authentication). The SDK's BasicAuthProvider
 * sends `authorization: Basic base64(user:password)`, as gRPC metadata and as an HTTP header.
 * Here the engine listens on 127.0.0.1 with credentials configured, which turns the check on.
 */
import { Camunda8 } from '@camunda8/sdk'
import { EngineAccessError, engineAccessFromEnv, startEngineServer, type EngineServer } from '../../src/engine/server'
import { runEngineCli } from '../support/engine-process'
import { GrpcStatus, bpmnFixture, grpcFailure } from '../support/engine-test-kit'

const CREDENTIALS = { username: 'raccord-ops', password: 'correct horse battery staple' }

let server: EngineServer
const clients: Camunda8[] = []

/** An SDK client configured only through its own settings. */
function sdk(auth: { username: string; password: string } | 'none'): Camunda8 {
  const camunda = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${server.grpcPort}`,
    ZEEBE_REST_ADDRESS: `http://127.0.0.1:${server.restPort}`,
    CAMUNDA_LOG_LEVEL: 'none',
    ...(auth === 'none'
      ? { CAMUNDA_AUTH_STRATEGY: 'NONE' as const }
      : { CAMUNDA_AUTH_STRATEGY: 'BASIC' as const, CAMUNDA_BASIC_AUTH_USERNAME: auth.username, CAMUNDA_BASIC_AUTH_PASSWORD: auth.password }),
    zeebeGrpcSettings: { ZEEBE_GRPC_CLIENT_RETRY: false, ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_CONNECTION_TOLERANCE_MS: 0 },
  })
  clients.push(camunda)
  return camunda
}

/** The HTTP status of a rejected SDK REST call. */
async function httpStatus(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call
  } catch (error) {
    return (error as { response?: { statusCode?: number } }).response?.statusCode ?? (error as { statusCode?: number }).statusCode
  }
  throw new Error('expected the call to be rejected')
}

beforeAll(async () => {
  server = await startEngineServer({ grpcPort: 0, restPort: 0, host: '127.0.0.1', credentials: CREDENTIALS })
})

afterAll(async () => {
  for (const camunda of clients) await camunda.closeAllClients()
  await server.close()
})

test('an SDK client with BASIC credentials deploys, starts and finds an instance over gRPC and REST', async () => {
  const camunda = sdk(CREDENTIALS)
  const zeebe = camunda.getZeebeGrpcApiClient()
  const rest = camunda.getCamundaRestClient()

  await zeebe.deployResource({ processFilename: bpmnFixture('one-service-task') })
  const { processInstanceKey } = await zeebe.createProcessInstance({ bpmnProcessId: 'one-service-task', variables: {} })
  const found = await rest.searchProcessInstances({ filter: { processInstanceKey } })

  expect(found.items.map((i) => i.processInstanceKey)).toEqual([processInstanceKey])
  expect((await rest.getTopology()).gatewayVersion).toBe('8.8.0')
})

test('without credentials: UNAUTHENTICATED over gRPC, 401 over REST', async () => {
  const camunda = sdk('none')

  const grpc = await grpcFailure(camunda.getZeebeGrpcApiClient().topology())
  const rest = await httpStatus(camunda.getCamundaRestClient().getTopology())

  expect(grpc.code).toBe(GrpcStatus.UNAUTHENTICATED)
  expect(grpc.details).toContain('CAMUNDA_AUTH_STRATEGY=BASIC')
  expect(rest).toBe(401)
})

test('with a wrong password: UNAUTHENTICATED over gRPC, 401 over REST, for every kind of call', async () => {
  const camunda = sdk({ username: CREDENTIALS.username, password: 'guess' })
  const zeebe = camunda.getZeebeGrpcApiClient()

  const topology = await grpcFailure(zeebe.topology())
  const activation = await grpcFailure(zeebe.activateJobs({ type: 'gateway-work', worker: 'w', timeout: 1_000, maxJobsToActivate: 1, requestTimeout: -1 }))
  const rest = await httpStatus(camunda.getCamundaRestClient().searchProcessInstances({ filter: {} }))

  expect(topology.code).toBe(GrpcStatus.UNAUTHENTICATED)
  expect(topology.details).toContain('do not match')
  expect(activation.code).toBe(GrpcStatus.UNAUTHENTICATED)
  expect(rest).toBe(401)
})

test('the 401 is problem JSON naming the reason, with a Basic challenge', async () => {
  const response = await fetch(`http://127.0.0.1:${server.restPort}/v2/topology`)

  expect(response.status).toBe(401)
  expect(response.headers.get('content-type')).toContain('application/problem+json')
  expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
  expect(((await response.json()) as { detail: string }).detail).toContain('no Authorization header')
})

test('listening beyond loopback without credentials is refused, naming the settings', async () => {
  await expect(startEngineServer({ grpcPort: 0, restPort: 0, host: '0.0.0.0' }))
    .rejects.toThrow(/beyond loopback, requires credentials: set RACCORD_ENGINE_USERNAME and RACCORD_ENGINE_PASSWORD/)
})

test('`raccord engine --host 0.0.0.0` without credentials exits with the settings to set', async () => {
  const run = await runEngineCli(['--host', '0.0.0.0', '--in-memory', '--grpc-port', '0', '--rest-port', '0'])

  expect(run.code).toBe(1)
  expect(run.output).toContain('raccord engine: cannot start: listening on 0.0.0.0, beyond loopback, requires credentials')
  expect(run.output).toContain('RACCORD_ENGINE_PASSWORD')
})

test('listening on every interface with credentials starts, and requires them', async () => {
  const open = await startEngineServer({ grpcPort: 0, restPort: 0, host: '0.0.0.0', credentials: CREDENTIALS })
  try {
    const response = await fetch(`http://127.0.0.1:${open.restPort}/v2/topology`)
    expect(response.status).toBe(401)
  } finally {
    await open.close()
  }
})

describe('settings from the environment', () => {
  test('credentials, host and lists are read from RACCORD_ENGINE_*', () => {
    expect(engineAccessFromEnv({
      RACCORD_ENGINE_HOST: '0.0.0.0',
      RACCORD_ENGINE_USERNAME: 'ops',
      RACCORD_ENGINE_PASSWORD: 's3cret',
      RACCORD_ENGINE_ALLOWED_HOSTS: 'raccord.internal, 10.0.0.5',
      RACCORD_ENGINE_ALLOWED_ORIGINS: 'https://console.example',
    })).toEqual({
      host: '0.0.0.0',
      credentials: { username: 'ops', password: 's3cret' },
      allowedHosts: ['raccord.internal', '10.0.0.5'],
      allowedOrigins: ['https://console.example'],
    })
    expect(engineAccessFromEnv({})).toEqual({ host: undefined, credentials: undefined, allowedHosts: undefined, allowedOrigins: undefined })
  })

  test('a user name without a password is refused, naming the missing setting and not echoing the other', () => {
    const read = () => engineAccessFromEnv({ RACCORD_ENGINE_USERNAME: 'ops-user-name' })

    expect(read).toThrow(EngineAccessError)
    expect(read).toThrow(/RACCORD_ENGINE_PASSWORD is empty or unset/)
    expect(read).not.toThrow(/ops-user-name/)
  })
})
