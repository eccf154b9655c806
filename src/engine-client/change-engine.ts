/** The change procedures' adapter (portal and provider changes, releases, openings) over the SDK. */
import type { Camunda8 } from '@camunda8/sdk'
import { CHANGE_MESSAGE_TTL_MS } from './message-ttl'
import { sdkProcessEngine, type InstanceProgress } from './process-engine'
import { restCall, search, variableValue, type VariableItem } from './rest-search'

/** What raccord asks of the engine for these procedures, through the SDK only. */
export interface ChangeEngine {
  startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<string>
  publishMessage(name: string, correlationKey: string, variables: Record<string, unknown>): Promise<void>
  /** Root instances of these processes whose variable `reference` is this one. */
  findByReference(reference: string, processIds: readonly string[]): Promise<Array<{ processInstanceKey: string; processDefinitionId: string }>>
  progress(processInstanceKey: string, names: readonly string[]): Promise<InstanceProgress>
  /** Every root instance of these processes, with these variables of its own scope (those it has). */
  summaries(processIds: readonly string[], names: readonly string[]): Promise<ProcedureSummaryItem[]>
}

/** A procedure's instance in a list. */
export interface ProcedureSummaryItem {
  processInstanceKey: string
  processDefinitionId: string
  state: string
  startDate: string
  variables: Record<string, unknown>
}

export function sdkChangeEngine(camunda: Camunda8): ChangeEngine {
  const base = sdkProcessEngine(camunda)
  const zeebe = camunda.getZeebeGrpcApiClient()
  const call = restCall(camunda.getCamundaRestClient())
  return {
    startProcess: base.startProcess,
    progress: base.progress,
    async publishMessage(name, correlationKey, variables) {
      await zeebe.publishMessage({ name, correlationKey, variables: variables as Record<string, never>, timeToLive: CHANGE_MESSAGE_TTL_MS })
    },
    async findByReference(reference, processIds) {
      const items = await search<{ processInstanceKey: string; processDefinitionId: string; parentProcessInstanceKey?: string }>(call, 'process-instances', {
        filter: { processDefinitionId: { $in: [...processIds] }, variables: [{ name: 'reference', value: JSON.stringify(reference) }] },
        page: { limit: 10 },
      })
      return items.filter((item) => item.parentProcessInstanceKey === undefined).map(({ processInstanceKey, processDefinitionId }) => ({ processInstanceKey, processDefinitionId }))
    },
    async summaries(processIds, names) {
      const instances = (await search<{ processInstanceKey: string; processDefinitionId: string; state: string; startDate: string; parentProcessInstanceKey?: string }>(call, 'process-instances', {
        filter: { processDefinitionId: { $in: [...processIds] } },
      })).filter((item) => item.parentProcessInstanceKey === undefined)
      const byKey = new Map(instances.map((item) => [item.processInstanceKey, { processInstanceKey: item.processInstanceKey, processDefinitionId: item.processDefinitionId, state: item.state, startDate: item.startDate, variables: {} as Record<string, unknown> }]))
      // One search per variable name, whatever the number of instances; only each instance's own scope counts.
      for (const name of names) {
        for (const item of await search<VariableItem>(call, 'variables', { filter: { name } })) {
          const summary = byKey.get(item.scopeKey)
          if (summary !== undefined) summary.variables[name] = await variableValue(call, item)
        }
      }
      return [...byKey.values()]
    },
  }
}
