/**
 * The one rule for completing a user task, whatever the route (console, /api/cuts/...): only the
 * party the task is for completes it (the organisation of one of its candidate groups, or one of
 * its candidate persons), and only with its form's visible fields, valid by the form's own rules.
 * No route lets a caller set any other process variable.
 */
import type { Caller } from '../incidents/incidents'
import { validateSubmission, type FormFieldProblem } from './form-validation'

export type { GatedTask, TaskReader } from '../../engine-client/task-reader'
import type { GatedTask, TaskReader } from '../../engine-client/task-reader'

/** The task is another party's (403). */
export class NotYourTaskError extends Error {
  override name = 'NotYourTaskError'
}

/** The submission does not fit the task's form (400). */
export class TaskSubmissionError extends Error {
  override name = 'TaskSubmissionError'
  constructor(readonly errors: FormFieldProblem[]) {
    super(`Invalid form submission: ${errors.map((e) => `${e.field}: ${e.detail}`).join('; ')}`)
  }
}

/**
 * The organisation a candidate group belongs to: the longest organisation id followed by a dash
 * that starts it, so that `portail-bis-operations` is not taken for one of `portail`'s groups.
 */
export function organisationOfGroup(group: string, organisationIds: readonly string[]): string | undefined {
  return organisationIds
    .filter((id) => group.startsWith(`${id}-`))
    .sort((a, b) => b.length - a.length)[0]
}

/** Whether the caller is the party a task is for: one of its candidate persons, or of a candidate group's organisation. */
export function isTaskParty(caller: Pick<Caller, 'organisation' | 'person'>, task: Pick<GatedTask, 'candidateGroups' | 'candidateUsers'>, organisationIds: readonly string[]): boolean {
  if (caller.person !== undefined && task.candidateUsers.includes(caller.person.email)) return true
  return task.candidateGroups.some((group) => organisationOfGroup(group, organisationIds) === caller.organisation)
}

/** Throws NotYourTaskError unless the caller is the task's party. */
export function requireTaskParty(caller: Pick<Caller, 'organisation' | 'person' | 'actor'>, task: GatedTask, organisationIds: readonly string[]): void {
  if (isTaskParty(caller, task, organisationIds)) return
  const forWhom = [...task.candidateUsers, ...task.candidateGroups].join(', ') || 'nobody'
  throw new NotYourTaskError(`Task ${task.elementId} (${task.userTaskKey}) is for ${forWhom}; ${caller.actor} may not complete it`)
}

/** The variables a task sees, the nearest scope winning, as form-js receives them. */
export function nearestFirst(variables: ReadonlyArray<{ name: string; value: unknown }>): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  for (const v of variables) {
    if (!Object.prototype.hasOwnProperty.call(data, v.name)) Object.defineProperty(data, v.name, { value: v.value, enumerable: true, writable: true, configurable: true })
  }
  return data
}

/**
 * Throws TaskSubmissionError unless `variables` are the task's form fields, valid by its rules
 * with its conditions. A task without a form takes no variables at all.
 */
export async function checkTaskSubmission(reader: TaskReader, task: Pick<GatedTask, 'userTaskKey'>, variables: Record<string, unknown>): Promise<void> {
  const form = await reader.userTaskForm(task.userTaskKey)
  const errors = form === undefined
    ? Object.keys(variables).map((field) => ({ field, detail: 'This task has no form: it takes no variables' }))
    : validateSubmission(form, variables, nearestFirst(await reader.userTaskVariables(task.userTaskKey)))
  if (errors.length > 0) throw new TaskSubmissionError(errors)
}
