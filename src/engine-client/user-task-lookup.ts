/**
 * Who holds a user task, as Tasklist or raccord's console assigned it: a worker asks it through
 * this small interface, never the SDK, so it stays testable without an engine. Built from the
 * SDK's REST client (POST /v2/user-tasks/search), it answers on the embedded engine and on
 * Camunda 8.8 alike.
 */
import type { Camunda8 } from '@camunda8/sdk'
import { restCall, search } from './rest-search'

/** What a worker may ask about the user tasks of its own process instance. */
export interface UserTaskLookup {
  /** The assignee of the open task of this element in this instance; null when nobody has taken it (or it is not open). */
  assigneeOf(processInstanceKey: string, elementId: string): Promise<string | null>
}

export function sdkUserTaskLookup(camunda: Camunda8): UserTaskLookup {
  const call = restCall(camunda.getCamundaRestClient())
  return {
    async assigneeOf(processInstanceKey, elementId) {
      const tasks = await search<{ assignee?: string | null }>(call, 'user-tasks', { filter: { processInstanceKey, elementId, state: 'CREATED' } })
      return tasks.find((task) => typeof task.assignee === 'string' && task.assignee !== '')?.assignee ?? null
    },
  }
}
