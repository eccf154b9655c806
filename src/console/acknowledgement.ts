/**
 * When an incident is acknowledged: the moment someone of the responsible team takes its
 * restore-service task, as an ITSM tool's response clock stops when the incident is assigned.
 * The time is kept on the process instance (`acknowledgedAt`, `acknowledgedBy`), where the
 * dashboard reads it with the incident's other figures, on the embedded engine or Camunda 8.8.
 */
import type { ConsoleEngine, UserTask } from '../engine-client/console-engine'

/** The process and the task whose first claim acknowledges an incident. */
export const ACKNOWLEDGING_TASK = { processDefinitionId: 'incident-management', elementId: 'restore-service' } as const

/** Records the first claim of the task that acknowledges an incident; any later claim keeps the first time. */
export async function recordAcknowledgement(engine: Pick<ConsoleEngine, 'variables' | 'setVariables'>, task: UserTask, assignee: string, at: Date): Promise<void> {
  if (task.processDefinitionId !== ACKNOWLEDGING_TASK.processDefinitionId || task.elementId !== ACKNOWLEDGING_TASK.elementId) return
  const scope = task.processInstanceKey
  const recorded = await engine.variables({ processInstanceKey: scope, scopeKey: scope, name: 'acknowledgedAt' })
  if (recorded.some((variable) => variable.name === 'acknowledgedAt')) return
  await engine.setVariables(scope, { acknowledgedAt: at.toISOString(), acknowledgedBy: assignee })
}
