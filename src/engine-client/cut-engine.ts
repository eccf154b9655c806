/** The interconnection cuts' adapter over the SDK: their messages, and the user tasks people complete. */
import type { Camunda8 } from '@camunda8/sdk'
import type { GatedTask, TaskReader } from './task-reader'
import { ConsoleEngine, type EngineFailure } from './console-engine'
import { CUT_MESSAGE_TTL_MS } from './message-ttl'
import type { ProcessEngine } from './process-engine'

/** What the SDK gives the cut service beyond ProcessEngine: messages and user tasks. */
export interface CutEngine extends Pick<ProcessEngine, 'startProcess' | 'progress'>, TaskReader {
  publishMessage(name: string, correlationKey: string, variables: Record<string, unknown>, messageId: string): Promise<void>
  /** The open user task of `elementId` in the instance, if any. */
  openUserTask(processInstanceKey: string, elementId: string): Promise<GatedTask | undefined>
  completeUserTask(userTaskKey: string, variables: Record<string, unknown>): Promise<void>
}

/** A failed task read is the engine's failure as it is: the cut service names it. */
const asIs: EngineFailure = (error) => (error instanceof Error ? error : new Error(String(error)))

export function sdkCutEngine(camunda: Camunda8, base: ProcessEngine): CutEngine {
  const zeebe = camunda.getZeebeGrpcApiClient()
  const rest = camunda.getCamundaRestClient()
  const tasks = new ConsoleEngine(camunda, asIs)
  return {
    startProcess: (id, variables) => base.startProcess(id, variables),
    progress: (key, names) => base.progress(key, names),
    async publishMessage(name, correlationKey, variables, messageId) {
      await zeebe.publishMessage({ name, correlationKey, variables: variables as never, timeToLive: CUT_MESSAGE_TTL_MS, messageId })
    },
    async openUserTask(processInstanceKey, elementId) {
      return (await tasks.userTasks({ processInstanceKey, elementId, state: 'CREATED' }))[0]
    },
    async completeUserTask(userTaskKey, variables) {
      await rest.completeUserTask({ userTaskKey, variables })
    },
    userTaskForm: (key) => tasks.userTaskForm(key),
    userTaskVariables: (key) => tasks.userTaskVariables(key),
  }
}
