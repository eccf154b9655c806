/** Basic authentication on every gRPC method, for an engine started with credentials. */
import * as grpc from '@grpc/grpc-js'
import { basicAuthorizationMatches, type EngineCredentials } from '../protocol'
import type { AnyWritable } from './job-streaming'

type AnyUnaryCall = grpc.ServerUnaryCall<unknown, unknown>

/**
 * Every method, implemented or not, first checks the caller's basic authentication: the SDK sends
 * it as `authorization` metadata with CAMUNDA_AUTH_STRATEGY=BASIC.
 */
export function requireCredentials(implementation: grpc.UntypedServiceImplementation, service: grpc.ServiceDefinition, credentials: EngineCredentials): void {
  const refusal = (call: { metadata: grpc.Metadata }) => {
    const presented = call.metadata.get('authorization')[0]
    if (basicAuthorizationMatches(typeof presented === 'string' ? presented : undefined, credentials)) return undefined
    return {
      code: grpc.status.UNAUTHENTICATED,
      // The SDK sends an empty authorization value when its strategy is NONE.
      details: presented === undefined || presented === ''
        ? 'Expected basic authentication (the SDK sends it with CAMUNDA_AUTH_STRATEGY=BASIC), but the call has no authorization metadata'
        : 'Expected valid basic authentication credentials, but those presented do not match',
    }
  }
  for (const [name, definition] of Object.entries(service)) {
    const handler = implementation[name]
    if (definition.responseStream) {
      const stream = handler as (call: AnyWritable) => void
      implementation[name] = (call: AnyWritable) => {
        const refused = refusal(call)
        if (refused) call.emit('error', refused)
        else stream(call)
      }
    } else {
      const unaryHandler = handler as (call: AnyUnaryCall, callback: grpc.sendUnaryData<unknown>) => void
      implementation[name] = (call: AnyUnaryCall, callback: grpc.sendUnaryData<unknown>) => {
        const refused = refusal(call)
        if (refused) callback(refused)
        else unaryHandler(call, callback)
      }
    }
  }
}
