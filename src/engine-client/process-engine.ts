/**
 * What raccord asks of the process engine, through @camunda8/sdk only, so the same code runs on the
 * embedded engine or on a Camunda 8.8 cluster: start an instance over gRPC, read its variables,
 * where it waits and its incidents over REST /v2.
 */
import type { Camunda8 } from '@camunda8/sdk'
import type { JSONDoc } from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0'
import { restCall, search, variableValue, type VariableItem } from './rest-search'

/** An element the instance is waiting at. */
export interface WaitingElement {
  elementId: string
  elementName?: string
  /** BPMN element type, e.g. USER_TASK, SERVICE_TASK */
  type: string
  since: string
  hasIncident: boolean
}

/** An open engine incident: a job out of retries, a failed expression... */
export interface EngineIncident {
  incidentKey: string
  errorType: string
  errorMessage: string
  elementId: string
  jobKey?: string
  creationTime: string
}

/** The state of a process instance, as much as a view of an incident needs. */
export interface InstanceProgress {
  /** ACTIVE, COMPLETED, TERMINATED; undefined while search has not caught up */
  state?: string
  variables: Record<string, unknown>
  waitingAt: WaitingElement[]
  incidents: EngineIncident[]
}

export interface ProcessEngine {
  /** Starts the latest version of a process; answers the process instance key. */
  startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<string>
  /** Process-level variables named in `names`, where the instance waits, its open incidents. */
  progress(processInstanceKey: string, names: readonly string[]): Promise<InstanceProgress>
  /** True when the gateway answers within `timeoutMs`. */
  isReachable(timeoutMs: number): Promise<boolean>
}

export function sdkProcessEngine(camunda: Camunda8): ProcessEngine {
  const zeebe = camunda.getZeebeGrpcApiClient()
  const call = restCall(camunda.getCamundaRestClient())

  const variables = async (processInstanceKey: string, names: readonly string[]): Promise<Record<string, unknown>> => {
    const items = await search<VariableItem>(call, 'variables', { filter: { processInstanceKey, scopeKey: processInstanceKey } })
    const values: Record<string, unknown> = {}
    for (const item of items.filter((candidate) => names.includes(candidate.name))) values[item.name] = await variableValue(call, item)
    return values
  }

  return {
    async startProcess(bpmnProcessId, processVariables) {
      // The variables come from a JSON request body or from code: plain JSON values.
      const created = await zeebe.createProcessInstance({ bpmnProcessId, variables: processVariables as JSONDoc })
      return created.processInstanceKey
    },

    async progress(processInstanceKey, names) {
      const filter = { processInstanceKey }
      const [instances, elements, incidents, values] = await Promise.all([
        search<{ state: string }>(call, 'process-instances', { filter }),
        search<WaitingElement & { startDate: string }>(call, 'element-instances', { filter: { ...filter, state: 'ACTIVE' }, sort: [{ field: 'startDate', order: 'ASC' }] }),
        search<EngineIncident>(call, 'incidents', { filter: { ...filter, state: 'ACTIVE' } }),
        variables(processInstanceKey, names),
      ])
      return {
        state: instances[0]?.state,
        variables: values,
        waitingAt: elements
          .filter((element) => element.type !== 'PROCESS')
          .map((element) => ({
            elementId: element.elementId,
            ...(element.elementName ? { elementName: element.elementName } : {}),
            type: element.type,
            since: element.startDate,
            hasIncident: element.hasIncident,
          })),
        incidents: incidents.map(({ incidentKey, errorType, errorMessage, elementId, jobKey, creationTime }) => ({
          incidentKey,
          errorType,
          errorMessage,
          elementId,
          ...(jobKey ? { jobKey } : {}),
          creationTime,
        })),
      }
    },

    async isReachable(timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      })
      try {
        return await Promise.race([zeebe.topology().then(() => true, () => false), timeout])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
