/**
 * Request validation for the /v2 routes: zod schemas of the 8.8 request bodies, and one parse
 * function whose 400 names the offending field.
 */
import type { Request } from 'express'
import { z } from 'zod'
import type { VariableDocument } from '../api'
import { variablesDepthProblem } from '../protocol'
import { invalidArgument } from './problem'

/** A key in a body: a decimal string (the SDK sends strings), or a safe integer. */
export const keySchema = z.union([
  z.string().regex(/^\d{1,19}$/, 'expected a key (a decimal string)'),
  z.number().int().nonnegative(),
]).transform(String)

/**
 * A variables document: a JSON object, never an array or a scalar, nested within the limit. Passed
 * on as parsed, not rebuilt key by key, so that every JSON key (`__proto__` included) stays a
 * variable name.
 */
export const variablesSchema = z.custom<VariableDocument>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'Invalid input: expected record')
  .superRefine((document, context) => {
    const problem = variablesDepthProblem(document)
    if (problem) context.addIssue({ code: 'custom', message: problem })
  })

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.')
  return path ? `'${path}': ${issue.message}` : issue.message
}

/**
 * Parse a request body; a missing body counts as `{}` (express leaves `req.body` undefined when
 * nothing was sent).
 */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const result = schema.safeParse(req.body ?? {})
  if (!result.success) {
    throw invalidArgument(`Invalid request body: ${result.error.issues.map(describeIssue).join('; ')}`)
  }
  return result.data
}

/** A key from the path: Camunda answers 400 when it is not a number. */
export function keyParam(req: Request, name: string): string {
  const value = req.params[name]
  if (typeof value !== 'string' || !/^\d{1,19}$/.test(value)) {
    throw invalidArgument(`Failed to convert '${name}' with value: '${String(value)}'`)
  }
  return value
}
