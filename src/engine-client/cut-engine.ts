/** The interconnection cuts' adapter over the SDK: their messages and the user tasks a link completes. */
import type { Camunda8 } from '@camunda8/sdk'
import { CUT_MESSAGE_TTL_MS } from './message-ttl'
import type { ProcessEngine } from './process-engine'
import { restCall, search } from './rest-search'

/** What the SDK gives the cut service beyond ProcessEngine: messages and user tasks. */
export interface CutEngine extends Pick<ProcessEngine, 'startProcess' | 'progress'> {
  publishMessage(name: string, correlationKey: string, variables: Record<string, unknown>, messageId: string): Promise<void>
  /** Completes the open user task of `elementId` in the instance; false when none is open. */
  completeUserTask(processInstanceKey: string, elementId: string, variables: Record<string, unknown>): Promise<boolean>
}

export function sdkCutEngine(camunda: Camunda8, base: ProcessEngine): CutEngine {
  const zeebe = camunda.getZeebeGrpcApiClient()
  const rest = camunda.getCamundaRestClient()
  return {
    startProcess: (id, variables) => base.startProcess(id, variables),
    progress: (key, names) => base.progress(key, names),
    async publishMessage(name, correlationKey, variables, messageId) {
      await zeebe.publishMessage({ name, correlationKey, variables: variables as never, timeToLive: CUT_MESSAGE_TTL_MS, messageId })
    },
    async completeUserTask(processInstanceKey, elementId, variables) {
      const [task] = await search<{ userTaskKey: string }>(restCall(rest), 'user-tasks', { filter: { processInstanceKey, elementId, state: 'CREATED' } })
      if (task === undefined) return false
      await rest.completeUserTask({ userTaskKey: task.userTaskKey, variables })
      return true
    },
  }
}
