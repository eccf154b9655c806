/**
 * Signed links (/links/<token>, /decisions/<token>) are bearer credentials: whoever holds one may
 * acknowledge or confirm a cut, or decide a task of the other party. They must never reach a log,
 * so every logged URL has its token replaced.
 */
import type { Logger } from 'pino'

const REDACTED = '[redacted]'

/** `url` with the token of a /links/<token> or /decisions/<token> path replaced (query and fragment dropped with it). */
export function redactLinkTokens(url: string): string {
  return url.replace(/\/(links|decisions)\/\S*/g, `/$1/${REDACTED}`)
}

/** The keys under which the API logs a URL. */
const URL_PATHS = ['url', 'req.url', 'instance']

/** A child of `logger` that redacts link tokens from every URL it logs. */
export function withLinkTokensRedacted(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: URL_PATHS, censor: (value: unknown) => (typeof value === 'string' ? redactLinkTokens(value) : value) } })
}
