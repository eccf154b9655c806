/**
 * Zeebe's gRPC gateway protocol (gateway_protocol.Gateway) over the engine's command API. The
 * proto is the one the @camunda8/sdk ships, loaded with the SDK's own proto-loader options, so
 * both ends agree on field names (keepCase), int64 as decimal strings and enums as names.
 */
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { EngineError } from '../api'
import type { ActivatedJob, DeployedItem, EngineApi, RejectionType } from '../api'
import type { VariableDocument } from '../state/records'

/** Default long-poll duration when ActivateJobs carries requestTimeout 0 (Zeebe's default). */
const DEFAULT_LONG_POLL_MS = 10_000
/** Default wait for CreateProcessInstanceWithResult when requestTimeout is 0 (Zeebe's gateway request timeout). */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000
/** How long close() lets in-flight unary calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 1_000
/** The engine's own result timeout runs this much longer than the gateway's, which answers first. */
const RESULT_WAITER_MARGIN_MS = 1_000
const GATEWAY_VERSION = '8.8.0'

/** A running gateway. */
export interface GrpcGateway {
  /** the bound port (the chosen one when started with port 0) */
  port: number
  /** Ends long polls and job streams, then stops the server. */
  close(): Promise<void>
}

/** A request failed before reaching the engine (the gateway's own validation). */
class GatewayError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message)
    this.name = 'GatewayError'
  }
}

const STATUS_BY_REJECTION: Record<RejectionType, grpc.status> = {
  NOT_FOUND: grpc.status.NOT_FOUND,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  INVALID_STATE: grpc.status.FAILED_PRECONDITION,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
}

function loadGatewayService(): grpc.ServiceDefinition {
  const packageDefinition = protoLoader.loadSync(require.resolve('@camunda8/sdk/dist/proto/zeebe.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  })
  const loaded = grpc.loadPackageDefinition(packageDefinition)
  const gatewayProtocol = loaded.gateway_protocol as grpc.GrpcObject
  const Gateway = gatewayProtocol.Gateway as grpc.ServiceClientConstructor
  return Gateway.service
}

/** Zeebe's gateway reports a rejection as `Command '<INTENT>' rejected with code '<TYPE>': <reason>`. */
function rejectionDetails(error: EngineError): string {
  let reason = error.message
  const unlisted = error.problems.filter((r) => r.problems.some((p) => !reason.includes(p.message)))
  if (unlisted.length > 0) {
    reason += unlisted
      .map((r) => `\n'${r.resourceName}':` + r.problems.map((p) =>
        p.elementId ? `\n- Element: ${p.elementId}\n    - ERROR: ${p.message}` : `\n- ${p.message}`).join(''))
      .join('')
  }
  return `Command '${error.intent}' rejected with code '${error.type}': ${reason}`
}

function toServiceError(error: unknown, method: string): Partial<grpc.ServiceError> {
  if (error instanceof EngineError) {
    return { code: STATUS_BY_REJECTION[error.type] ?? grpc.status.INTERNAL, details: rejectionDetails(error) }
  }
  if (error instanceof GatewayError) {
    return { code: error.code, details: error.message }
  }
  // Not a rejection: an engine fault. Log it in full; the client gets the message.
  console.error(`[grpc-gateway] ${method} failed:`, error)
  const message = error instanceof Error ? error.message : String(error)
  return { code: grpc.status.INTERNAL, details: `Unexpected error in ${method}: ${message}` }
}

function invalidArgument(message: string): GatewayError {
  return new GatewayError(grpc.status.INVALID_ARGUMENT, message)
}

/** Variables travel as JSON strings; an empty string means no variables. */
function parseVariables(json: string | undefined, field = 'variables'): VariableDocument | undefined {
  if (json === undefined || json.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw invalidArgument(`Property '${field}' is invalid: expected a JSON document, but '${truncate(json)}' is not valid JSON (${(error as Error).message})`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = parsed === null ? 'NIL' : Array.isArray(parsed) ? 'ARRAY' : typeof parsed === 'string' ? 'STRING' : typeof parsed === 'number' ? 'NUMBER' : 'BOOLEAN'
    throw invalidArgument(`Property '${field}' is invalid: Expected document to be a root level object, but was '${kind}'`)
  }
  return parsed as VariableDocument
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}...` : text
}

/** int64 fields arrive as decimal strings (longs: String); proto3 sends 0 for absent. */
function toNumber(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value)
}

function optionalKey(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === '0' ? undefined : value
}

function optionalString(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function optionalList(values: string[] | undefined): string[] | undefined {
  return values && values.length > 0 ? values : undefined
}

function requireNotBlank(value: string | undefined, field: string, request: string): string {
  if (value === undefined || value.trim() === '') {
    throw invalidArgument(`Expected ${request}'s ${field} to be a non-empty string, but it was blank`)
  }
  return value
}

function toGrpcJob(job: ActivatedJob): Record<string, unknown> {
  return {
    key: job.key,
    type: job.type,
    processInstanceKey: job.processInstanceKey,
    bpmnProcessId: job.bpmnProcessId,
    processDefinitionVersion: job.processDefinitionVersion,
    processDefinitionKey: job.processDefinitionKey,
    elementId: job.elementId,
    elementInstanceKey: job.elementInstanceKey,
    customHeaders: JSON.stringify(job.customHeaders ?? {}),
    worker: job.worker,
    retries: job.retries,
    deadline: String(job.deadline),
    variables: JSON.stringify(job.variables ?? {}),
    tenantId: job.tenantId,
  }
}

function toGrpcDeployment(item: DeployedItem): Record<string, unknown> {
  switch (item.kind) {
    case 'process':
      return { process: { bpmnProcessId: item.bpmnProcessId, version: item.version, processDefinitionKey: item.processDefinitionKey, resourceName: item.resourceName, tenantId: item.tenantId } }
    case 'decision':
      return { decision: { dmnDecisionId: item.decisionId, dmnDecisionName: item.name ?? '', version: item.version, decisionKey: item.decisionKey, dmnDecisionRequirementsId: item.decisionRequirementsId, decisionRequirementsKey: item.decisionRequirementsKey, tenantId: item.tenantId } }
    case 'decisionRequirements':
      return { decisionRequirements: { dmnDecisionRequirementsId: item.decisionRequirementsId, dmnDecisionRequirementsName: item.name ?? '', version: item.version, decisionRequirementsKey: item.decisionRequirementsKey, resourceName: item.resourceName, tenantId: item.tenantId } }
    case 'form':
      return { form: { formId: item.formId, version: item.version, formKey: item.formKey, resourceName: item.resourceName, tenantId: item.tenantId } }
  }
}

// Request shapes as proto-loader decodes them (keepCase, longs as strings, defaults filled in).
interface CreateProcessInstanceRequest {
  processDefinitionKey: string
  bpmnProcessId: string
  version: number
  variables: string
  startInstructions: { elementId: string }[]
  tenantId: string
}
interface ActivateJobsRequest {
  type: string
  worker: string
  timeout: string
  maxJobsToActivate: number
  fetchVariable: string[]
  requestTimeout: string
  tenantIds: string[]
}
type StreamActivatedJobsRequest = Omit<ActivateJobsRequest, 'maxJobsToActivate' | 'requestTimeout'>

type Unary<Req> = (request: Req, method: string) => unknown | Promise<unknown>
type AnyUnaryCall = grpc.ServerUnaryCall<unknown, unknown>
type AnyWritable = grpc.ServerWritableStream<unknown, unknown>

/** Calls that change nothing answer without waiting for the store (so also while the disk is full). */
const READ_ONLY_METHODS = new Set(['Topology'])

/** Starts a Zeebe-compatible gRPC gateway in front of `engine`. Port 0 picks a free port. */
export async function startGrpcGateway(engine: EngineApi, opts: { host?: string; port: number }): Promise<GrpcGateway> {
  const host = opts.host ?? '127.0.0.1'
  const service = loadGatewayService()
  // Pending long polls, job streams and awaited results: close() settles each of them.
  const pending = new Set<() => void>()
  let closing = false
  let boundPort = opts.port

  const unary = <Req>(method: string, handle: Unary<Req>) =>
    (call: AnyUnaryCall, callback: grpc.sendUnaryData<unknown>): void => {
      Promise.resolve()
        .then(() => handle(call.request as Req, method))
        // A command is acknowledged only once its effects are on disk.
        .then(async (response) => {
          if (!READ_ONLY_METHODS.has(method)) await engine.whenDurable()
          return response
        })
        .then((response) => callback(null, response), (error: unknown) => callback(toServiceError(error, method)))
    }

  const createInstance = (request: CreateProcessInstanceRequest) => {
    const processDefinitionKey = optionalKey(request.processDefinitionKey)
    const bpmnProcessId = optionalString(request.bpmnProcessId)
    if (!processDefinitionKey && !bpmnProcessId) {
      throw invalidArgument('Expected either a bpmnProcessId or a processDefinitionKey, but none given')
    }
    return engine.createProcessInstance({
      processDefinitionKey,
      bpmnProcessId,
      version: request.version > 0 ? request.version : -1,
      variables: parseVariables(request.variables),
      startInstructions: request.startInstructions?.length ? request.startInstructions.map((s) => ({ elementId: s.elementId })) : undefined,
      tenantId: optionalString(request.tenantId),
    })
  }

  /** Waits for a promise, at most `deadlineMs` (then DEADLINE_EXCEEDED); close() ends the wait with UNAVAILABLE. */
  const awaitWithin = <T>(promise: Promise<T>, deadlineMs: number, what: string): Promise<T> => new Promise<T>((resolve, reject) => {
    const abort = () => reject(new GatewayError(grpc.status.UNAVAILABLE, 'The gateway is shutting down'))
    const timer = setTimeout(() => reject(new GatewayError(grpc.status.DEADLINE_EXCEEDED, `Time out between gateway and broker: ${what} timed out in ${deadlineMs} ms`)), deadlineMs)
    pending.add(abort)
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer)
      pending.delete(abort)
    })
  })

  const activateJobs = (call: AnyWritable): void => {
    const request = call.request as ActivateJobsRequest
    const method = 'ActivateJobs'
    const fail = (error: unknown) => {
      const { code, details } = toServiceError(error, method)
      call.emit('error', { code, details })
    }
    let input: Parameters<EngineApi['activateJobs']>[0]
    let requestTimeout: number
    try {
      const type = requireNotBlank(request.type, 'type', 'ActivateJobsRequest')
      const timeout = toNumber(request.timeout)
      if (!(timeout >= 1)) throw invalidArgument(`Expected ActivateJobsRequest's timeout to be at least 1, but it was ${request.timeout}`)
      if (!(request.maxJobsToActivate >= 1)) throw invalidArgument(`Expected ActivateJobsRequest's maxJobsToActivate to be at least 1, but it was ${request.maxJobsToActivate}`)
      input = {
        type,
        worker: request.worker || 'default',
        timeout,
        maxJobsToActivate: request.maxJobsToActivate,
        fetchVariables: optionalList(request.fetchVariable),
        tenantIds: optionalList(request.tenantIds),
      }
      requestTimeout = toNumber(request.requestTimeout)
    } catch (error) {
      fail(error)
      return
    }

    let finished = false
    // Set once the call starts waiting; finish() may run before that.
    const waiting: { unsubscribe?: () => void; timer?: NodeJS.Timeout } = {}
    let scheduled = false
    const finish = (jobs: ActivatedJob[]) => {
      if (finished) return
      finished = true
      cleanup()
      if (jobs.length === 0) { call.end(); return }
      // Hand jobs out only once their activation is durable.
      engine.whenDurable().then(() => {
        call.write({ jobs: jobs.map(toGrpcJob) })
        call.end()
      }, fail)
    }
    const cleanup = () => {
      waiting.unsubscribe?.()
      clearTimeout(waiting.timer)
      pending.delete(endNow)
    }
    const endNow = () => finish([])
    const tryActivate = (): boolean => {
      const jobs = engine.activateJobs(input)
      if (jobs.length > 0 || requestTimeout < 0) {
        finish(jobs)
        return true
      }
      return false
    }

    try {
      if (closing || tryActivate()) return
    } catch (error) {
      finished = true
      fail(error)
      return
    }
    pending.add(endNow)
    call.on('cancelled', () => {
      finished = true
      cleanup()
    })
    waiting.timer = setTimeout(endNow, requestTimeout === 0 ? DEFAULT_LONG_POLL_MS : requestTimeout)
    // The engine may signal from inside a command: activate after that command has returned.
    waiting.unsubscribe = engine.onJobsAvailable(input.type, () => {
      if (finished || scheduled) return
      scheduled = true
      queueMicrotask(() => {
        scheduled = false
        if (finished) return
        try {
          tryActivate()
        } catch (error) {
          finished = true
          cleanup()
          fail(error)
        }
      })
    })
  }

  const streamActivatedJobs = (call: AnyWritable): void => {
    const request = call.request as StreamActivatedJobsRequest
    let closed = false
    let remove: (() => void) | undefined
    const stop = () => {
      if (closed) return
      closed = true
      remove?.()
      pending.delete(endStream)
    }
    const endStream = () => {
      if (closed) return
      stop()
      call.end()
    }
    try {
      const type = requireNotBlank(request.type, 'type', 'StreamActivatedJobsRequest')
      const timeout = toNumber(request.timeout)
      if (!(timeout >= 1)) throw invalidArgument(`Expected StreamActivatedJobsRequest's timeout to be at least 1, but it was ${request.timeout}`)
      if (closing) {
        call.end()
        return
      }
      call.on('cancelled', stop)
      call.on('close', stop)
      call.on('error', stop)
      pending.add(endStream)
      remove = engine.addJobStream({
        type,
        worker: request.worker || 'default',
        timeout,
        fetchVariables: optionalList(request.fetchVariable),
        tenantIds: optionalList(request.tenantIds),
        push(job) {
          if (closed || call.cancelled || call.destroyed) return false
          call.write(toGrpcJob(job))
          return true
        },
      })
      if (closed) remove()
    } catch (error) {
      stop()
      const { code, details } = toServiceError(error, 'StreamActivatedJobs')
      call.emit('error', { code, details })
    }
  }

  const implementation: grpc.UntypedServiceImplementation = {
    Topology: unary('Topology', () => ({
      brokers: [{
        nodeId: 0,
        host,
        port: boundPort,
        partitions: [{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }],
        version: GATEWAY_VERSION,
      }],
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: GATEWAY_VERSION,
    })),

    DeployResource: unary<{ resources: { name: string; content: Buffer }[]; tenantId: string }>('DeployResource', async (request) => {
      const result = await engine.deploy(
        request.resources.map((r) => ({ name: r.name, content: Buffer.from(r.content) })),
        optionalString(request.tenantId),
      )
      return { key: result.deploymentKey, deployments: result.deployments.map(toGrpcDeployment), tenantId: result.tenantId }
    }),

    CreateProcessInstance: unary<CreateProcessInstanceRequest>('CreateProcessInstance', (request) => {
      const created = createInstance(request)
      return { ...created }
    }),

    CreateProcessInstanceWithResult: unary<{ request: CreateProcessInstanceRequest | null; requestTimeout: string; fetchVariables: string[] }>(
      'CreateProcessInstanceWithResult', async (request) => {
        if (!request.request) throw invalidArgument('Expected a CreateProcessInstanceRequest, but none given')
        const created = createInstance(request.request)
        const requestTimeout = toNumber(request.requestTimeout)
        const deadline = requestTimeout > 0 ? requestTimeout : DEFAULT_REQUEST_TIMEOUT_MS
        // Zeebe answers a result that is late with DEADLINE_EXCEEDED: the gateway's own timer decides,
        // the engine's (a little later) only cleans up its waiter.
        const variables = await awaitWithin(
          engine.awaitCompletion(created.processInstanceKey, optionalList(request.fetchVariables), deadline + RESULT_WAITER_MARGIN_MS),
          deadline,
          `waiting for the result of process instance '${created.processInstanceKey}'`,
        )
        return { ...created, variables: JSON.stringify(variables) }
      }),

    CancelProcessInstance: unary<{ processInstanceKey: string }>('CancelProcessInstance', (request) => {
      engine.cancelProcessInstance(request.processInstanceKey)
      return {}
    }),

    ActivateJobs: activateJobs,
    StreamActivatedJobs: streamActivatedJobs,

    CompleteJob: unary<{ jobKey: string; variables: string }>('CompleteJob', (request) => {
      engine.completeJob(request.jobKey, parseVariables(request.variables))
      return {}
    }),

    FailJob: unary<{ jobKey: string; retries: number; errorMessage: string; retryBackOff: string; variables: string }>('FailJob', (request) => {
      engine.failJob(request.jobKey, request.retries, request.errorMessage, toNumber(request.retryBackOff), parseVariables(request.variables))
      return {}
    }),

    ThrowError: unary<{ jobKey: string; errorCode: string; errorMessage: string; variables: string }>('ThrowError', (request) => {
      engine.throwError(request.jobKey, request.errorCode, request.errorMessage, parseVariables(request.variables))
      return {}
    }),

    UpdateJobRetries: unary<{ jobKey: string; retries: number }>('UpdateJobRetries', (request) => {
      engine.updateJobRetries(request.jobKey, request.retries)
      return {}
    }),

    UpdateJobTimeout: unary<{ jobKey: string; timeout: string }>('UpdateJobTimeout', (request) => {
      engine.updateJobTimeout(request.jobKey, toNumber(request.timeout))
      return {}
    }),

    PublishMessage: unary<{ name: string; correlationKey: string; timeToLive: string; messageId: string; variables: string; tenantId: string }>(
      'PublishMessage', (request) => {
        const name = requireNotBlank(request.name, 'name', 'PublishMessageRequest')
        const published = engine.publishMessage({
          name,
          correlationKey: request.correlationKey,
          timeToLive: toNumber(request.timeToLive),
          messageId: optionalString(request.messageId),
          variables: parseVariables(request.variables),
          tenantId: optionalString(request.tenantId),
        })
        return { key: published.key, tenantId: published.tenantId }
      }),

    BroadcastSignal: unary<{ signalName: string; variables: string; tenantId: string }>('BroadcastSignal', (request) => {
      const signalName = requireNotBlank(request.signalName, 'signalName', 'BroadcastSignalRequest')
      const broadcast = engine.broadcastSignal(signalName, parseVariables(request.variables), optionalString(request.tenantId))
      return { key: broadcast.key, tenantId: broadcast.tenantId }
    }),

    SetVariables: unary<{ elementInstanceKey: string; variables: string; local: boolean }>('SetVariables', (request) => {
      const variables = parseVariables(request.variables)
      if (variables === undefined) {
        throw invalidArgument(`Property 'variables' is invalid: Expected document to be a root level object, but was empty`)
      }
      return engine.setVariables(request.elementInstanceKey, variables, request.local)
    }),

    ResolveIncident: unary<{ incidentKey: string }>('ResolveIncident', (request) => {
      engine.resolveIncident(request.incidentKey)
      return {}
    }),

    EvaluateDecision: unary<{ decisionKey: string; decisionId: string; variables: string; tenantId: string }>('EvaluateDecision', (request) => {
      const decisionKey = optionalKey(request.decisionKey)
      const decisionId = optionalString(request.decisionId)
      if (!decisionKey && !decisionId) {
        throw invalidArgument('Expected either a decisionId or a decisionKey, but none given')
      }
      return engine.evaluateDecision({
        decisionKey,
        decisionId,
        variables: parseVariables(request.variables),
        tenantId: optionalString(request.tenantId),
      })
    }),

    DeleteResource: unary<{ resourceKey: string }>('DeleteResource', (request) => {
      engine.deleteResource(request.resourceKey)
      return {}
    }),
  }

  // Everything else in the proto (DeployProcess, ModifyProcessInstance, MigrateProcessInstance, ...) answers UNIMPLEMENTED by name.
  for (const [name, definition] of Object.entries(service)) {
    if (implementation[name]) continue
    const details = `Method ${name} is not supported by the raccord engine`
    implementation[name] = definition.responseStream
      ? (call: AnyWritable) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details })
      : (_call: AnyUnaryCall, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED, details })
  }

  const server = new grpc.Server({
    // The SDK pings every 6 minutes by default; allow it rather than answering GOAWAY.
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  })
  server.addService(service, implementation)
  boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(new Error(`gRPC gateway cannot listen on ${host}:${opts.port}: ${error.message}`)) : resolve(port))
  })

  let closed: Promise<void> | undefined
  return {
    port: boundPort,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true
        for (const settle of [...pending]) settle()
        const force = setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, SHUTDOWN_GRACE_MS)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      })
      return closed
    },
  }
}
