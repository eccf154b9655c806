/** Basic authentication on every gRPC method, for an engine started with credentials. */
import { Status } from './status'
import { basicAuthorizationMatches, type EngineCredentials } from '../protocol'
import type { CallMetadata, CallStatus } from './gateway-thread'

/**
 * Every method, implemented or not, first checks the caller's basic authentication: the SDK sends
 * it as `authorization` metadata with CAMUNDA_AUTH_STRATEGY=BASIC. Returns the status refusing the
 * call, or undefined when the credentials match.
 */
export function refusal(metadata: CallMetadata, credentials: EngineCredentials): CallStatus | undefined {
  const presented = metadata.get('authorization')[0]
  if (basicAuthorizationMatches(presented, credentials)) return undefined
  return {
    code: Status.UNAUTHENTICATED,
    // The SDK sends an empty authorization value when its strategy is NONE.
    details: presented === undefined || presented === ''
      ? 'Expected basic authentication (the SDK sends it with CAMUNDA_AUTH_STRATEGY=BASIC), but the call has no authorization metadata'
      : 'Expected valid basic authentication credentials, but those presented do not match',
  }
}
