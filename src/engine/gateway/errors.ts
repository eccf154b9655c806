/**
 * Failures as gRPC statuses: engine rejections in Zeebe's wording, the gateway's own validation,
 * and engine faults.
 */
import * as grpc from '@grpc/grpc-js'
import { EngineError, type RejectionType } from '../api'

/** A request failed before reaching the engine (the gateway's own validation). */
export class GatewayError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message)
    this.name = 'GatewayError'
  }
}

export function invalidArgument(message: string): GatewayError {
  return new GatewayError(grpc.status.INVALID_ARGUMENT, message)
}

const STATUS_BY_REJECTION: Record<RejectionType, grpc.status> = {
  NOT_FOUND: grpc.status.NOT_FOUND,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  INVALID_STATE: grpc.status.FAILED_PRECONDITION,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
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

/** The status a failed call answers with. */
export function toServiceError(error: unknown, method: string): { code: grpc.status; details: string } {
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
