/**
 * How one process hands work to another: a worker publishes a message or starts a process. The
 * workers see this small interface only, never the SDK, so they stay testable without an engine;
 * src/wiring/application.ts builds it from the SDK client, so it works on any engine.
 */
import type { Camunda8 } from '@camunda8/sdk'
import type { JSONDoc } from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0'
import { HANDOFF_MESSAGE_TTL_MS } from './message-ttl'

/** gRPC status codes the hand-offs tell apart. */
const GRPC_NOT_FOUND = 5
const GRPC_ALREADY_EXISTS = 6

/** A message for another process. */
export interface HandoffMessage {
  name: string
  correlationKey: string
  variables: Record<string, unknown>
  /**
   * Derived from the job: while the message is buffered, publishing it again (a redelivered job)
   * is a no-op, so the other process starts or hears of it once.
   */
  messageId: string
  /** how long the engine keeps it for a process that is not there yet; default HANDOFF_MESSAGE_TTL_MS */
  timeToLiveMs?: number
}

/** What a worker may ask of the engine to hand work to another process. */
export interface ProcessHandoff {
  publishMessage(message: HandoffMessage): Promise<void>
  /** Starts the latest version of a process; answers the process instance key. Throws ProcessNotDeployedError. */
  startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<string>
}

/** The engine has no such process: nothing to retry, the caller may fall back. */
export class ProcessNotDeployedError extends Error {
  override name = 'ProcessNotDeployedError'
  constructor(readonly bpmnProcessId: string, options?: ErrorOptions) {
    super(`Process '${bpmnProcessId}' is not deployed`, options)
  }
}

const grpcCode = (error: unknown): unknown => (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined)

export function sdkProcessHandoff(camunda: Camunda8): ProcessHandoff {
  const zeebe = camunda.getZeebeGrpcApiClient()
  return {
    async publishMessage(message) {
      try {
        await zeebe.publishMessage({
          name: message.name,
          correlationKey: message.correlationKey,
          variables: message.variables as Record<string, never>,
          messageId: message.messageId,
          timeToLive: message.timeToLiveMs ?? HANDOFF_MESSAGE_TTL_MS,
        })
      } catch (error) {
        // Published already by an earlier delivery of the same job: that is the idempotent outcome.
        if (grpcCode(error) !== GRPC_ALREADY_EXISTS) throw error
      }
    },
    async startProcess(bpmnProcessId, variables) {
      try {
        const created = await zeebe.createProcessInstance({ bpmnProcessId, variables: variables as JSONDoc })
        return created.processInstanceKey
      } catch (error) {
        if (grpcCode(error) === GRPC_NOT_FOUND) throw new ProcessNotDeployedError(bpmnProcessId, { cause: error })
        throw error
      }
    },
  }
}
