/** The SDK calls that finish a process start a crash cut short (see src/app/pending-starts.ts). */
import type { Camunda8 } from '@camunda8/sdk'

/** What resuming needs of the engine. */
export interface PendingStartEngine {
  /** The key of an instance of `bpmnProcessId` whose variable `name` is `value`, in any state. */
  findInstance(bpmnProcessId: string, name: string, value: string): Promise<string | undefined>
  startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<string>
}

export function sdkPendingStartEngine(camunda: Camunda8): PendingStartEngine {
  const rest = camunda.getCamundaRestClient()
  return {
    async findInstance(bpmnProcessId, name, value) {
      const found = await rest.callApiEndpoint<Record<string, unknown>, { items: Array<{ processInstanceKey: string }> }>({
        method: 'POST',
        urlPath: 'process-instances/search',
        // A variable filter compares the variable's JSON text.
        body: { filter: { processDefinitionId: bpmnProcessId, variables: [{ name, value: JSON.stringify(value) }] }, page: { limit: 1 } },
      })
      return found.items[0]?.processInstanceKey
    },
    async startProcess(bpmnProcessId, variables) {
      const created = await camunda.getZeebeGrpcApiClient().createProcessInstance({ bpmnProcessId, variables: variables as never })
      return created.processInstanceKey
    },
  }
}
