/**
 * RFC 9457 problem details: the one error middleware of the /v2 adapter, and the errors the
 * routes raise themselves. Engine rejections keep Zeebe's wording:
 * `Command '<intent>' rejected with code '<type>': <reason>`.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'
import { MulterError } from 'multer'
import { EngineError, type RejectionType } from '../api'

/** An HTTP failure detected by the adapter itself (bad body, unknown key, unknown route). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail)
    this.name = 'HttpProblem'
  }
}

/** 400 for a request that does not follow the 8.8 request schema. */
export function invalidArgument(detail: string): HttpProblem {
  return new HttpProblem(400, 'INVALID_ARGUMENT', detail)
}

/**
 * Camunda 8.8 with multi-tenancy disabled refuses any tenant but '<default>' (absent or empty means
 * it). Returns the tenant to use; throws a 400 worded as the REST gateway words it.
 */
export function defaultTenantOnly(requestName: string, ...tenantIds: Array<string | null | undefined>): string | undefined {
  const other = tenantIds.find((tenantId) => typeof tenantId === 'string' && tenantId !== '' && tenantId !== '<default>')
  if (other) throw invalidArgument(`Expected to handle request ${requestName} with tenant identifier '${other}', but multi-tenancy is disabled`)
  return tenantIds.find((tenantId): tenantId is string => typeof tenantId === 'string' && tenantId !== '')
}

/** 404 for a GET of an unknown key, worded as Camunda's search endpoints word it. */
export function notFound(entity: string, key: string): HttpProblem {
  return new HttpProblem(404, 'NOT_FOUND', `${entity} with key '${key}' not found`)
}

/** HTTP status per rejection type, as Camunda's RestErrorMapper maps them (backpressure: 8.8.3+). */
const STATUS_BY_REJECTION: Record<RejectionType, number> = {
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  ALREADY_EXISTS: 409,
  INVALID_ARGUMENT: 400,
  RESOURCE_EXHAUSTED: 503,
}

/** An RFC 9457 problem, as Zeebe's REST gateway answers it. */
export interface ProblemDetail {
  type: 'about:blank'
  title: string
  status: number
  detail: string
  instance: string
}

/** The one formatter of problem details: every refusal of the /v2 adapter is built here. */
export function problemDetail(status: number, title: string, detail: string, instance: string): ProblemDetail {
  return { type: 'about:blank', title, status, detail, instance }
}

/** The request path a problem names as its `instance`. */
export function requestPath(req: Request): string {
  return req.originalUrl.split('?')[0]
}

/** The body and headers of a problem answer, for callers that write the response themselves. */
export function problemBody(problem: ProblemDetail): { contentType: string; body: string } {
  return { contentType: 'application/problem+json', body: JSON.stringify(problem) }
}

function sendProblem(res: Response, problem: ProblemDetail): void {
  const { contentType, body } = problemBody(problem)
  res.status(problem.status).type(contentType).send(body)
}

/** Body-parser errors carry an http status and a `type` naming the failure. */
function isBodyParserError(err: unknown): err is Error & { status: number; type: string } {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number'
    && typeof (err as { type?: unknown }).type === 'string'
}

function toProblem(err: unknown, instance: string): ProblemDetail {
  const problem = (status: number, title: string, detail: string): ProblemDetail =>
    problemDetail(status, title, detail, instance)

  if (err instanceof EngineError) {
    return problem(STATUS_BY_REJECTION[err.type] ?? 500, err.type,
      `Command '${err.intent}' rejected with code '${err.type}': ${err.message}`)
  }
  if (err instanceof HttpProblem) return problem(err.status, err.title, err.detail)
  if (err instanceof MulterError) {
    const status = err.code === 'LIMIT_FILE_SIZE' || err.code === 'LIMIT_FIELD_VALUE' ? 413 : 400
    return problem(status, status === 413 ? 'Payload Too Large' : 'INVALID_ARGUMENT',
      `Invalid multipart request: ${err.message}${err.field ? ` (part '${err.field}')` : ''}`)
  }
  if (isBodyParserError(err)) {
    switch (err.type) {
      case 'entity.parse.failed':
        return problem(400, 'INVALID_ARGUMENT', `Request body is not valid JSON: ${err.message}`)
      case 'entity.too.large':
        return problem(413, 'Payload Too Large', `Request body is larger than the limit: ${err.message}`)
      default:
        return problem(err.status, 'INVALID_ARGUMENT', `Request body could not be read: ${err.message}`)
    }
  }
  return problem(500, 'INTERNAL', err instanceof Error ? err.message : String(err))
}

/** The one error middleware: every failure leaves as application/problem+json. */
export const problemHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    next(err)
    return
  }
  sendProblem(res, toProblem(err, requestPath(req)))
}

/** Unknown paths answer 404 problem JSON rather than express's HTML page. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not Found', `No endpoint ${req.method} ${requestPath(req)}`))
}
