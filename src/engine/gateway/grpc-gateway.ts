/**
 * Zeebe's gRPC gateway protocol (gateway_protocol.Gateway) over the engine's command API. The
 * server runs in a thread of its own (gateway-thread.ts), with the proto the @camunda8/sdk ships;
 * the calls it hands over run here. Decoding lives in requests.ts, encoding in responses.ts,
 * statuses in errors.ts and the two job delivery calls in job-streaming.ts; this module binds
 * them to the methods.
 */
import { Status } from './status'
import { storeRefusal, type EngineApi } from '../api'
import type { EngineCredentials } from '../protocol'
import { CommandPacer } from '../pacing'
import { refusal } from './authentication'
import { GatewayError, invalidArgument, toServiceError } from './errors'
import { GatewayThread, type CallMetadata, type CallStatus, type GatewayStream, type Handler, type UnaryCall, type UnaryCallback } from './gateway-thread'
import { activateJobs, streamActivatedJobs, type StreamingContext } from './job-streaming'
import {
  createInstanceInput, defaultTenantOnly, deployInput, evaluateDecisionInput, optionalList, parseVariables, publishMessageInput,
  requireNotBlank, optionalString, setVariablesDocument, toNumber,
  type BroadcastSignalRequest, type CompleteJobRequest, type CreateProcessInstanceRequest,
  type CreateProcessInstanceWithResultRequest, type DeployResourceRequest, type EvaluateDecisionRequest,
  type FailJobRequest, type MigrateProcessInstanceRequest, type ModifyProcessInstanceRequest, type PublishMessageRequest,
  type SetVariablesRequest, type ThrowErrorRequest, migrateInstanceInput, modifyInstanceInput,
} from './requests'
import { toGrpcDeployment, topologyResponse } from './responses'

/** Default wait for CreateProcessInstanceWithResult when requestTimeout is 0 (Zeebe's gateway request timeout). */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000
/** How long close() lets in-flight unary calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 1_000
/** The engine's own result timeout runs this much longer than the gateway's, which answers first. */
const RESULT_WAITER_MARGIN_MS = 1_000

/** A running gateway. */
export interface GrpcGateway {
  /** the bound port (the chosen one when started with port 0) */
  port: number
  /** Ends long polls and job streams, then stops the server. */
  close(): Promise<void>
}

type Unary<Req> = (request: Req, method: string) => unknown | Promise<unknown>

/** Calls that change nothing answer without waiting for the store (so also while the disk is full). */
const READ_ONLY_METHODS = new Set(['Topology'])

/** Starts a Zeebe-compatible gRPC gateway in front of `engine`. Port 0 picks a free port. */
export async function startGrpcGateway(
  engine: EngineApi,
  opts: { host?: string; port: number; credentials?: EngineCredentials; pacer?: CommandPacer; thread?: GatewayThread },
): Promise<GrpcGateway> {
  const host = opts.host ?? '127.0.0.1'
  const pacer = opts.pacer ?? new CommandPacer()
  // Pending long polls, job streams and awaited results: close() settles each of them.
  const pending = new Set<() => void>()
  let closing = false
  let boundPort = opts.port

  // The server itself runs in a thread of its own (gateway-thread.ts), spawned earlier when given;
  // the calls run here. When the engine keeps a log, the log thread tells the gateway thread how
  // far it is committed, and the thread holds each answer until its commands are (COMMITS).
  const thread = opts.thread ?? GatewayThread.spawn()
  const notices = engine.commitNotices()
  if (notices) thread.watchCommits(notices.port, toServiceError(storeRefusal(notices.failurePrefix), 'CommitNotices').details)
  /** The log position an answer given now waits for in the thread; undefined: it waits here. */
  const afterCommit = (): number | undefined => notices ? engine.commitPosition() : undefined

  const unary = <Req>(method: string, handle: Unary<Req>) =>
    (call: UnaryCall, callback: UnaryCallback): void => {
      // Reads answer at once; commands take their turn (pacing.ts).
      const handled = READ_ONLY_METHODS.has(method)
        ? Promise.resolve().then(() => handle(call.request as Req, method))
        : pacer.run(() => handle(call.request as Req, method))
      handled
        // A command is acknowledged only once its effects are on disk.
        .then(async (response) => {
          if (READ_ONLY_METHODS.has(method)) return callback(null, response)
          const after = afterCommit()
          if (after !== undefined) return callback(null, response, after)
          await engine.whenDurable()
          callback(null, response)
        })
        .catch((error: unknown) => callback(toServiceError(error, method)))
    }

  /** Waits for a promise, at most `deadlineMs` (then DEADLINE_EXCEEDED); close() ends the wait with UNAVAILABLE. */
  const awaitWithin = <T>(promise: Promise<T>, deadlineMs: number, what: string): Promise<T> => new Promise<T>((resolve, reject) => {
    const abort = () => reject(new GatewayError(Status.UNAVAILABLE, 'The gateway is shutting down'))
    const timer = setTimeout(() => reject(new GatewayError(Status.DEADLINE_EXCEEDED, `Time out between gateway and broker: ${what} timed out in ${deadlineMs} ms`)), deadlineMs)
    pending.add(abort)
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer)
      pending.delete(abort)
    })
  })

  const streaming: StreamingContext = { engine, pending, closing: () => closing, afterCommit }

  const implementation: Record<string, Handler> = {
    Topology: unary('Topology', () => topologyResponse(host, boundPort)),

    DeployResource: unary<DeployResourceRequest>('DeployResource', async (request) => {
      const { resources, tenantId } = deployInput(request)
      const result = await engine.deploy(resources, tenantId)
      return { key: result.deploymentKey, deployments: result.deployments.map(toGrpcDeployment), tenantId: result.tenantId }
    }),

    CreateProcessInstance: unary<CreateProcessInstanceRequest>('CreateProcessInstance', (request) =>
      ({ ...engine.createProcessInstance(createInstanceInput(request)) })),

    CreateProcessInstanceWithResult: unary<CreateProcessInstanceWithResultRequest>(
      'CreateProcessInstanceWithResult', async (request) => {
        if (!request.request) throw invalidArgument('Expected a CreateProcessInstanceRequest, but none given')
        const created = engine.createProcessInstance(createInstanceInput(request.request))
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

    ModifyProcessInstance: unary<ModifyProcessInstanceRequest>('ModifyProcessInstance', (request) => {
      engine.modifyProcessInstance(modifyInstanceInput(request))
      return {}
    }),

    MigrateProcessInstance: unary<MigrateProcessInstanceRequest>('MigrateProcessInstance', (request) => {
      engine.migrateProcessInstance(migrateInstanceInput(request))
      return {}
    }),

    ActivateJobs: (call: GatewayStream) => activateJobs(streaming, call),
    StreamActivatedJobs: (call: GatewayStream) => streamActivatedJobs(streaming, call),

    CompleteJob: unary<CompleteJobRequest>('CompleteJob', (request) => {
      engine.completeJob(request.jobKey, parseVariables(request.variables))
      return {}
    }),

    FailJob: unary<FailJobRequest>('FailJob', (request) => {
      engine.failJob(request.jobKey, request.retries, request.errorMessage, toNumber(request.retryBackOff), parseVariables(request.variables))
      return {}
    }),

    ThrowError: unary<ThrowErrorRequest>('ThrowError', (request) => {
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

    PublishMessage: unary<PublishMessageRequest>('PublishMessage', (request) => {
      const published = engine.publishMessage(publishMessageInput(request))
      return { key: published.key, tenantId: published.tenantId }
    }),

    BroadcastSignal: unary<BroadcastSignalRequest>('BroadcastSignal', (request) => {
      const signalName = requireNotBlank(request.signalName, 'signalName', 'BroadcastSignalRequest')
      const broadcast = engine.broadcastSignal(signalName, parseVariables(request.variables), defaultTenantOnly('BroadcastSignal', optionalString(request.tenantId)))
      return { key: broadcast.key, tenantId: broadcast.tenantId }
    }),

    SetVariables: unary<SetVariablesRequest>('SetVariables', async (request) => {
      const result = engine.setVariables(request.elementInstanceKey, setVariablesDocument(request), request.local)
      await engine.variablesSettled(request.elementInstanceKey)
      return result
    }),

    ResolveIncident: unary<{ incidentKey: string }>('ResolveIncident', (request) => {
      engine.resolveIncident(request.incidentKey)
      return {}
    }),

    EvaluateDecision: unary<EvaluateDecisionRequest>('EvaluateDecision', (request) =>
      engine.evaluateDecision(evaluateDecisionInput(request))),

    DeleteResource: unary<{ resourceKey: string }>('DeleteResource', (request) => {
      engine.deleteResource(request.resourceKey)
      return {}
    }),
  }

  /** Every call, implemented or not, is first authenticated; a method not implemented answers UNIMPLEMENTED by name. */
  const handlerFor = (method: string, metadata: CallMetadata): Handler | CallStatus => {
    const refused = opts.credentials && refusal(metadata, opts.credentials)
    if (refused) return refused
    return implementation[method] ?? { code: Status.UNIMPLEMENTED, details: `Method ${method} is not supported by the raccord engine` }
  }

  boundPort = await thread.listen(`${host}:${opts.port}`, {
    unary(method, call, callback) {
      const handler = handlerFor(method, call.metadata)
      if (typeof handler === 'function') (handler as (call: UnaryCall, callback: UnaryCallback) => void)(call, callback)
      else callback(handler)
    },
    stream(method, call) {
      const handler = handlerFor(method, call.metadata)
      if (typeof handler === 'function') (handler as (call: GatewayStream) => void)(call)
      else call.emit('error', handler)
    },
    // Jobs the client went away before receiving go back to be activated again.
    undelivered: (message) => engine.yieldJobs(undeliveredJobKeys(message)),
  }).catch((error: unknown) => {
    throw new Error(`gRPC gateway cannot listen on ${host}:${opts.port}: ${(error as Error).message}`)
  })

  let closed: Promise<void> | undefined
  return {
    port: boundPort,
    close() {
      if (!closed) {
        closing = true
        for (const settle of [...pending]) settle()
        closed = thread.close(SHUTDOWN_GRACE_MS)
      }
      return closed
    },
  }
}

/** The keys of the jobs in a message of ActivateJobs (`{ jobs }`) or StreamActivatedJobs (one job). */
function undeliveredJobKeys(message: unknown): string[] {
  const jobs = (message as { jobs?: { key: string }[] }).jobs ?? [message as { key: string }]
  return jobs.map((job) => job.key)
}
