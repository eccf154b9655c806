/**
 * The gRPC status codes the gateway answers with, as the gRPC protocol numbers them
 * (grpc/doc/statuscodes.md). The event loop's side of the gateway needs only these numbers, so it
 * does not load the gRPC server or the proto: they run in the gateway's thread (gateway-thread.ts).
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const

export type StatusCode = (typeof Status)[keyof typeof Status]
