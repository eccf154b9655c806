/** What the task gate reads of a user task from the engine. */

/** What the gate needs to know of a task. */
export interface GatedTask {
  userTaskKey: string
  elementId: string
  candidateGroups: string[]
  candidateUsers: string[]
  assignee?: string
}

/** What the gate reads from the engine: the task's form and the variables it sees. */
export interface TaskReader {
  userTaskForm(key: string): Promise<Record<string, unknown> | undefined>
  userTaskVariables(key: string): Promise<Array<{ name: string; value: unknown }>>
}
