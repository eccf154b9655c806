/**
 * Who may see and do what in the console. A task belongs to the organisations of its candidate
 * groups, named `<organisation>-<team>` (e.g. `portail-operations`); an operator sees the tasks of
 * their organisation's groups and the tasks assigned to them, an admin sees every task.
 */
import type { ApiRole } from '../config'
import type { Credential } from '../api/auth'
import type { UserTask } from './engine'

/** The roles allowed each console action. */
export const CONSOLE_PERMISSIONS = {
  /** the Processes pages: instances, diagrams, variables, incidents */
  viewProcesses: ['manager', 'admin'],
  /** the manager's dashboard and its figures as JSON */
  viewDashboard: ['manager', 'admin'],
  /** giving a failed job its retries back and resolving its incident */
  retryIncident: ['manager', 'admin'],
  cancelInstance: ['admin'],
  /** declaring an incident, as POST /api/incidents allows */
  declareIncident: ['operator', 'admin'],
} as const satisfies Record<string, readonly ApiRole[]>

export type ConsolePermission = keyof typeof CONSOLE_PERMISSIONS

export function may(caller: Pick<Credential, 'roles'>, permission: ConsolePermission): boolean {
  const allowed: readonly ApiRole[] = CONSOLE_PERMISSIONS[permission]
  return caller.roles.some((role) => allowed.includes(role))
}

/** The id a caller is known by as an assignee: the name of their token. */
export function assigneeOf(caller: Pick<Credential, 'name'>): string {
  return caller.name
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

export function canSeeTask(caller: Pick<Credential, 'name' | 'organisation' | 'roles'>, task: UserTask, organisationIds: readonly string[]): boolean {
  if (caller.roles.includes('admin')) return true
  const me = assigneeOf(caller)
  if (task.assignee === me || task.candidateUsers.includes(me)) return true
  return task.candidateGroups.some((group) => organisationOfGroup(group, organisationIds) === caller.organisation)
}
