/**
 * The server's check of a submitted Camunda Form: the browser validates with form-js, but a
 * completion only carries the form's own visible fields, valid by the form's own rules, whoever
 * sends it.
 */
import { HttpProblem } from '../api/problem'
import { validateSubmission } from './form-validation'

/** Throws a 400 listing every field the form does not have or hides, and every rule broken. */
export function checkSubmission(schema: Record<string, unknown>, variables: Record<string, unknown>, taskVariables: Record<string, unknown> = {}): void {
  const errors = validateSubmission(schema, variables, taskVariables)
  if (errors.length > 0) {
    throw new HttpProblem(400, 'Bad Request', `Invalid form submission: ${errors.map((e) => `${e.field}: ${e.detail}`).join('; ')}`, { errors })
  }
}
