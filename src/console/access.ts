/**
 * Who may see and do what in the console. A task belongs to the organisations of its candidate
 * groups, named `<organisation>-<team>` (e.g. `portail-operations`); an operator sees the tasks of
 * their organisation's groups and the tasks assigned to them, an admin sees every task.
 */
import type { ApiRole } from '../config'
import type { Credential } from '../api/auth'
import type { UserTask } from '../engine-client/console-engine'
import { isTaskParty } from '../app/access/task-gate'

/** The roles allowed each console action. */
export const CONSOLE_PERMISSIONS = {
  /** the Processes pages: instances, diagrams, variables, incidents */
  viewProcesses: ['manager', 'admin'],
  /** the manager's dashboard and its figures as JSON */
  viewDashboard: ['manager', 'admin'],
  /** giving a failed job its retries back and resolving its incident */
  retryIncident: ['manager', 'admin'],
  cancelInstance: ['admin'],
  /** moving a token, migrating an instance to another version, batch retry and cancel (Operate's operations) */
  operateInstances: ['admin'],
  /** declaring an incident, as POST /api/incidents allows */
  declareIncident: ['operator', 'admin'],
} as const satisfies Record<string, readonly ApiRole[]>

export type ConsolePermission = keyof typeof CONSOLE_PERMISSIONS

export function may(caller: Pick<Credential, 'roles'>, permission: ConsolePermission): boolean {
  const allowed: readonly ApiRole[] = CONSOLE_PERMISSIONS[permission]
  return caller.roles.some((role) => allowed.includes(role))
}

/**
 * The id a caller is known by as an assignee: the email of the credential's person, as tasks for
 * named people (the crisis cell) list them; a team's credential goes by its token name.
 */
export function assigneeOf(caller: Pick<Credential, 'name' | 'person'>): string {
  return caller.person?.email ?? caller.name
}

export { organisationOfGroup } from '../app/access/task-gate'

/** A task is seen by its party (isTaskParty), its assignee, and the admin of the installation's own organisation. */
export function canSeeTask(caller: Pick<Credential, 'name' | 'organisation' | 'roles' | 'person'>, task: UserTask, organisationIds: readonly string[], self?: string): boolean {
  if (caller.roles.includes('admin') && (self === undefined || caller.organisation === self)) return true
  if (task.assignee === assigneeOf(caller)) return true
  return isTaskParty(caller, task, organisationIds)
}
