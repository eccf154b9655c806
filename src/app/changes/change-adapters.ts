/**
 * Adapters of change steps (`changes.adapters` in the configuration): a signed webhook call to
 * the system that does the step, or `manual`, and then the process gives the step to a person.
 * Signed like the link-control webhook (HMAC-SHA256 of timestamp and body), with an
 * Idempotency-Key, so the receiver refuses forgeries and ignores a retried call.
 */
import type { AdapterName, ChangesConfig } from '../../config'
import { postSignedWebhook, webhookRefusal } from '../cuts/link-control'
import { JobInputError } from '../worker-kit/job-input'

/** done: the adapter did the step; manual: no adapter is configured. */
export type AdapterOutcome = 'done' | 'manual'

export type AdapterConfig = ChangesConfig['adapters'][AdapterName]

const ADAPTER_NAMES: readonly AdapterName[] = ['portalVersions', 'portalCatalogue', 'providerRollback']

export function isAdapterName(name: string): name is AdapterName {
  return (ADAPTER_NAMES as readonly string[]).includes(name)
}

/** The adapter refused (4xx), redirected (3xx) or is misconfigured: retrying will not help, an operator must act. */
export class AdapterRejectedError extends JobInputError {
  override name = 'AdapterRejectedError'
  constructor(message: string) {
    super([message])
  }
}

export interface AdapterCall {
  action: string
  idempotencyKey: string
  body: Record<string, unknown>
  env: NodeJS.ProcessEnv
  now?: () => Date
  /** default 10 s */
  timeoutMs?: number
}

/**
 * Calls the adapter. Throws AdapterRejectedError (permanent), or a plain Error when the adapter
 * cannot be reached or answers 5xx (the job is retried).
 */
export async function callAdapter(adapter: AdapterConfig, call: AdapterCall): Promise<AdapterOutcome> {
  if (adapter.type === 'manual') return 'manual'
  const secret = call.env[adapter.secretEnv]
  if (secret === undefined || secret === '') throw new AdapterRejectedError(`Environment variable ${adapter.secretEnv} (the secret of adapter ${adapter.url}) is not set`)
  const at = (call.now ?? (() => new Date()))().toISOString()
  const body = JSON.stringify({ ...call.body, action: call.action, at })
  let response: Response
  try {
    response = await postSignedWebhook(adapter.url, secret, call.idempotencyKey, body, at, call.timeoutMs ?? 10_000)
  } catch (error) {
    throw new Error(`Cannot reach the adapter at ${adapter.url} for ${call.action}: ${(error as Error).message}`, { cause: error })
  }
  if (response.status >= 500) throw new Error(`The adapter at ${adapter.url} answered ${response.status} to ${call.action}`)
  if (!response.ok) throw new AdapterRejectedError(`The adapter at ${adapter.url} refused ${call.action}: ${webhookRefusal(response)}`)
  return 'done'
}
