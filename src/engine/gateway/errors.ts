/**
 * Failures as gRPC statuses: engine rejections in Zeebe's wording, the gateway's own validation,
 * and engine faults. Every status leaves with a message short enough to be sent.
 */
import { Status, type StatusCode } from './status'
import { EngineError, type RejectionType } from '../api'

/** A request failed before reaching the engine (the gateway's own validation). */
export class GatewayError extends Error {
  constructor(readonly code: StatusCode, message: string) {
    super(message)
    this.name = 'GatewayError'
  }
}

export function invalidArgument(message: string): GatewayError {
  return new GatewayError(Status.INVALID_ARGUMENT, message)
}

const STATUS_BY_REJECTION: Record<RejectionType, StatusCode> = {
  NOT_FOUND: Status.NOT_FOUND,
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  INVALID_STATE: Status.FAILED_PRECONDITION,
  ALREADY_EXISTS: Status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: Status.RESOURCE_EXHAUSTED,
}

/**
 * The longest status message sent, measured as it travels: the gateway thread percent-encodes it
 * (encodeURI, as grpc-js does) into the grpc-message trailer, and a client drops a response whose
 * headers pass its metadata limit (8 KiB by default), so the call would never be answered. 4 KiB
 * leaves room for the rest.
 */
const MAX_ENCODED_DETAILS = 4_096

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * `details` cut to what can be sent, the cut marked with how much is missing. Lone surrogates
 * (which encodeURI refuses) become U+FFFD first.
 */
export function sendableDetails(details: string): string {
  const text = details.replace(LONE_SURROGATE, '\uFFFD')
  if (text.length <= MAX_ENCODED_DETAILS / 9 || encodeURI(text).length <= MAX_ENCODED_DETAILS) return text
  // Leave room for the marker, which is itself encoded (the ellipsis takes 9 characters).
  const budget = MAX_ENCODED_DETAILS - 64
  let used = 0
  let end = 0
  for (const char of text) {
    used += encodeURI(char).length
    if (used > budget) break
    end += char.length
  }
  return `${text.slice(0, end)}… (truncated, ${text.length - end} more characters)`
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
export function toServiceError(error: unknown, method: string): { code: StatusCode; details: string } {
  if (error instanceof EngineError) {
    return { code: STATUS_BY_REJECTION[error.type] ?? Status.INTERNAL, details: sendableDetails(rejectionDetails(error)) }
  }
  if (error instanceof GatewayError) {
    return { code: error.code, details: sendableDetails(error.message) }
  }
  // Not a rejection: an engine fault. Log it in full; the client gets the message.
  console.error(`[grpc-gateway] ${method} failed:`, error)
  const message = error instanceof Error ? error.message : String(error)
  return { code: Status.INTERNAL, details: sendableDetails(`Unexpected error in ${method}: ${message}`) }
}
