/**
 * The API's one error middleware: every failure becomes RFC 9457 problem JSON
 * (application/problem+json), with each bad field listed for a 400.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express'
import type { Logger } from 'pino'
import { z } from 'zod'
import { NotServicePartyError } from '../config/identities'
import { formatPath } from '../config'
import { EngineUnavailableError } from '../app/incidents/incidents'
import { UnknownIncidentError } from '../app/incidents/trace-store'

/** One bad field of a request. */
export interface FieldProblem {
  /** path of the field in the body, e.g. `impact` or `contact.email`; `(body)` for the whole body */
  field: string
  detail: string
}

/** A failure the API answers as such; anything else is a 500. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail)
    this.name = 'HttpProblem'
  }
}

export class UnauthorizedProblem extends HttpProblem {
  constructor(detail: string) {
    super(401, 'Unauthorized', detail)
  }
}

export class ForbiddenProblem extends HttpProblem {
  constructor(detail: string) {
    super(403, 'Forbidden', detail)
  }
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not Found', `No route ${req.method} ${req.path}`))
}

export function problemHandler(logger: Pick<Logger, 'error'>): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const problem = toProblem(error)
    if (problem.status >= 500) logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed')
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="raccord"')
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({ type: 'about:blank', title: problem.title, status: problem.status, detail: problem.message, instance: req.originalUrl, ...problem.extensions })
  }
}

function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error
  if (error instanceof z.ZodError) {
    const errors: FieldProblem[] = error.issues.map((issue) => ({ field: formatPath(issue.path) || '(body)', detail: issue.message }))
    return new HttpProblem(400, 'Bad Request', `Invalid request body: ${errors.map((e) => `${e.field}: ${e.detail}`).join('; ')}`, { errors })
  }
  if (error instanceof UnknownIncidentError) return new HttpProblem(404, 'Not Found', error.message)
  if (error instanceof NotServicePartyError) return new HttpProblem(403, 'Forbidden', error.message)
  if (error instanceof EngineUnavailableError) return new HttpProblem(503, 'Service Unavailable', error.message)
  // express.json() failures carry a `type` and a 4xx status.
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown }
  if (type === 'entity.too.large') return new HttpProblem(413, 'Content Too Large', 'The request body is larger than the API accepts')
  if (type === 'entity.parse.failed') return new HttpProblem(400, 'Bad Request', 'The request body is not valid JSON', { errors: [{ field: '(body)', detail: 'Malformed JSON' }] })
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpProblem(status, 'Bad Request', (error as Error).message)
  return new HttpProblem(500, 'Internal Server Error', 'The request could not be processed; the server log says why')
}
