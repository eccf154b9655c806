/**
 * The link-control adapter: how raccord disables and restores an interconnection (CUT-1, CRI-3),
 * chosen per interconnection in the configuration. `webhook` calls the party's gateway or firewall
 * automation; `manual` leaves it to an operator, whom the process then asks to do it by hand.
 *
 * The webhook request is signed (HMAC-SHA256 of timestamp and body with the configured secret) and
 * carries an Idempotency-Key, so the receiver can refuse forgeries and ignore a retried call.
 */
import { createHmac } from 'node:crypto'
import type { Interconnection } from '../../config'

export type LinkAction = 'disable' | 'enable'

/** What the adapter did. */
export type LinkControlOutcome = { mode: 'webhook'; status: number; at: string } | { mode: 'manual' }

/** The switch could not be reached or failed (network error, timeout, 5xx): worth retrying. */
export class LinkControlUnavailableError extends Error {
  override name = 'LinkControlUnavailableError'
}

/** The switch refused the request (4xx), redirected it (3xx) or the adapter is misconfigured: retrying will not help. */
export class LinkControlRejectedError extends Error {
  override name = 'LinkControlRejectedError'
}

export interface LinkControlRequest {
  interconnection: Interconnection
  action: LinkAction
  cutId: string
  /** same key, same switch operation: the job key */
  idempotencyKey: string
}

export interface LinkControl {
  apply(request: LinkControlRequest): Promise<LinkControlOutcome>
}

export interface WebhookLinkControlOptions {
  env: NodeJS.ProcessEnv
  now: () => Date
  /** default 10 s */
  timeoutMs?: number
}

/** Headers of a signed webhook call. */
export const SIGNATURE_HEADER = 'x-raccord-signature'
export const TIMESTAMP_HEADER = 'x-raccord-timestamp'

/** `sha256=<hex>` over `<timestamp>.<body>`: what the receiver recomputes with the shared secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/**
 * POSTs a signed JSON body with its Idempotency-Key and reads the answer. Throws what fetch throws
 * (unreachable, timeout); the caller sorts the status into retry or give up.
 */
export async function postSignedWebhook(url: string, secret: string, idempotencyKey: string, body: string, at: string, timeoutMs: number): Promise<Response> {
  const timestamp = String(Math.floor(Date.parse(at) / 1000))
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body),
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    // Following a redirect would re-send the signed body and its Idempotency-Key elsewhere.
    redirect: 'manual',
  })
  await response.arrayBuffer()
  return response
}

/**
 * Why a webhook's answer is not a success, naming a redirect's target: a redirect is refused, not
 * retried, since the same URL redirects again and only fixing the configured URL settles it.
 */
export function webhookRefusal(response: Response): string {
  if (response.status < 300 || response.status >= 400) return `HTTP ${response.status}`
  return `redirect (HTTP ${response.status}) to ${response.headers.get('location') ?? '(no Location)'}, not followed`
}

export function linkControl(options: WebhookLinkControlOptions): LinkControl {
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    async apply({ interconnection, action, cutId, idempotencyKey }) {
      const control = interconnection.linkControl
      if (control.type === 'manual') return { mode: 'manual' }
      const secret = options.env[control.secretEnv]
      if (secret === undefined || secret === '') {
        throw new LinkControlRejectedError(`Environment variable ${control.secretEnv} (the webhook secret of interconnection '${interconnection.id}') is not set`)
      }
      const at = options.now().toISOString()
      const body = JSON.stringify({ action, interconnection: interconnection.id, service: interconnection.service, environment: interconnection.environment, cutId, at })
      let response: Response
      try {
        response = await postSignedWebhook(control.url, secret, idempotencyKey, body, at, timeoutMs)
      } catch (error) {
        throw new LinkControlUnavailableError(`Cannot reach the link control of '${interconnection.id}' at ${control.url}: ${(error as Error).message}`, { cause: error })
      }
      if (response.status >= 500) throw new LinkControlUnavailableError(`The link control of '${interconnection.id}' answered ${response.status} to ${action}`)
      if (!response.ok) throw new LinkControlRejectedError(`The link control of '${interconnection.id}' refused to ${action}: ${webhookRefusal(response)}`)
      return { mode: 'webhook', status: response.status, at }
    },
  }
}
