/**
 * What the console asks of the process engine, over the SDK's REST client and the public /v2 API
 * only, so the same pages work against the embedded engine and a Camunda 8.8 cluster.
 */
import type { Camunda8 } from '@camunda8/sdk'
import { search, variableValue, type RestCall, type RestClient, type VariableItem } from './rest-search'

/** A Camunda user task as /v2/user-tasks answers it. */
export interface UserTask {
  userTaskKey: string
  name?: string
  state: string
  assignee?: string
  elementId: string
  candidateGroups: string[]
  candidateUsers: string[]
  processDefinitionId: string
  processName?: string
  processInstanceKey: string
  processDefinitionKey: string
  elementInstanceKey: string
  creationDate: string
  completionDate?: string
  dueDate?: string
  followUpDate?: string
  priority?: number
  formKey?: string
}

export interface ProcessInstance {
  processInstanceKey: string
  processDefinitionKey: string
  processDefinitionId: string
  processDefinitionName?: string
  processDefinitionVersion: number
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED'
  hasIncident: boolean
  startDate: string
  endDate?: string
}

export interface ElementInstance {
  elementInstanceKey: string
  elementId: string
  elementName?: string
  type: string
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED'
  hasIncident: boolean
  startDate: string
  endDate?: string
}

export interface EngineIncident {
  incidentKey: string
  errorType: string
  errorMessage: string
  elementId: string
  elementInstanceKey: string
  processInstanceKey: string
  creationTime: string
  state: string
  jobKey?: string
}

export interface ProcessDefinition {
  processDefinitionKey: string
  processDefinitionId: string
  name?: string
  version: number
}

/** A variable with its value parsed from the JSON the API carries. */
export interface Variable {
  name: string
  value: unknown
  scopeKey: string
}

/** Process-instance search criteria the console offers. */
export interface BatchOperation {
  batchOperationKey: string
  state: string
  batchOperationType: string
  operationsTotalCount: number
  operationsCompletedCount: number
  operationsFailedCount: number
}

export interface BatchOperationItem {
  itemKey: string
  processInstanceKey: string
  state: string
  errorMessage?: string
}

export interface InstanceFilter {
  processDefinitionId?: string
  state?: string
  hasIncident?: boolean
  /** process-level variables that must have these values */
  variables?: Array<{ name: string; value: unknown }>
}

/** Turns a failed call to `what` (e.g. `GET /v2/incidents/1`) into the error the console answers with. */
export type EngineFailure = (error: unknown, what: string) => Error

export class ConsoleEngine {
  private readonly rest: RestClient
  /** JSON calls whose failures become the console's problems */
  private readonly json: RestCall = (method, urlPath, body) => this.call(method, urlPath, body)

  constructor(camunda: Camunda8, private readonly failure: EngineFailure) {
    this.rest = camunda.getCamundaRestClient()
  }

  userTasks(filter: Record<string, unknown>): Promise<UserTask[]> {
    return this.search<UserTask>('user-tasks', filter, [{ field: 'creationDate', order: 'DESC' }])
  }

  userTask(key: string): Promise<UserTask> {
    return this.call<UserTask>('GET', `user-tasks/${key}`)
  }

  /** The linked form's schema, or undefined when the task has none. */
  async userTaskForm(key: string): Promise<Record<string, unknown> | undefined> {
    const text = await this.call<string>('GET', `user-tasks/${key}/form`, undefined, false)
    if (text.trim() === '') return undefined
    const form = JSON.parse(text) as { schema: unknown }
    // 8.8 servers answer the schema as a JSON string; the embedded engine as an object.
    return (typeof form.schema === 'string' ? JSON.parse(form.schema) : form.schema) as Record<string, unknown>
  }

  /** Variables the task sees: its own scope first, then up to the process instance. */
  async userTaskVariables(key: string): Promise<Variable[]> {
    const items = await search<VariableItem>(this.json, `user-tasks/${key}/variables`, {})
    return Promise.all(items.map((item) => this.parsed(item)))
  }

  assign(key: string, assignee: string): Promise<void> {
    return this.call('POST', `user-tasks/${key}/assignment`, { assignee, allowOverride: false }, false).then(() => undefined)
  }

  unassign(key: string): Promise<void> {
    return this.call('DELETE', `user-tasks/${key}/assignee`, undefined, false).then(() => undefined)
  }

  complete(key: string, variables: Record<string, unknown>): Promise<void> {
    return this.call('POST', `user-tasks/${key}/completion`, { variables }, false).then(() => undefined)
  }

  processDefinitions(): Promise<ProcessDefinition[]> {
    return this.search<ProcessDefinition>('process-definitions', { isLatestVersion: true }, [{ field: 'processDefinitionId', order: 'ASC' }])
  }

  processDefinitionXml(key: string): Promise<string> {
    return this.call<string>('GET', `process-definitions/${key}/xml`, undefined, false)
  }

  processInstances(filter: InstanceFilter): Promise<ProcessInstance[]> {
    const body: Record<string, unknown> = {}
    if (filter.processDefinitionId) body.processDefinitionId = filter.processDefinitionId
    if (filter.state) body.state = filter.state
    if (filter.hasIncident !== undefined) body.hasIncident = filter.hasIncident
    if (filter.variables?.length) body.variables = filter.variables.map(({ name, value }) => ({ name, value: JSON.stringify(value) }))
    return this.search<ProcessInstance>('process-instances', body, [{ field: 'startDate', order: 'DESC' }])
  }

  processInstance(key: string): Promise<ProcessInstance> {
    return this.call<ProcessInstance>('GET', `process-instances/${key}`)
  }

  /** Every version of a process, newest first. */
  processVersions(processDefinitionId: string): Promise<ProcessDefinition[]> {
    return this.search<ProcessDefinition>('process-definitions', { processDefinitionId }, [{ field: 'version', order: 'DESC' }])
  }

  /** Moves a token: terminates an element instance and activates an element (Operate's modification). */
  moveToken(processInstanceKey: string, elementInstanceKey: string, targetElementId: string): Promise<void> {
    return this.call('POST', `process-instances/${processInstanceKey}/modification`, {
      terminateInstructions: [{ elementInstanceKey }],
      activateInstructions: [{ elementId: targetElementId, variableInstructions: [] }],
    }, false).then(() => undefined)
  }

  migrate(processInstanceKey: string, targetProcessDefinitionKey: string, mappingInstructions: Array<{ sourceElementId: string; targetElementId: string }>): Promise<void> {
    return this.call('POST', `process-instances/${processInstanceKey}/migration`, { targetProcessDefinitionKey, mappingInstructions }, false).then(() => undefined)
  }

  /** A batch operation (8.8) over the given instances: resolve their incidents, or cancel them. */
  startBatch(type: 'RESOLVE_INCIDENT' | 'CANCEL_PROCESS_INSTANCE', processInstanceKeys: string[]): Promise<{ batchOperationKey: string }> {
    const path = type === 'RESOLVE_INCIDENT' ? 'process-instances/incident-resolution' : 'process-instances/cancellation'
    return this.call<{ batchOperationKey: string }>('POST', path, { filter: { processInstanceKey: { $in: processInstanceKeys } } })
  }

  batchOperation(key: string): Promise<BatchOperation> {
    return this.call<BatchOperation>('GET', `batch-operations/${key}`)
  }

  batchItems(batchOperationKey: string): Promise<BatchOperationItem[]> {
    return this.search<BatchOperationItem>('batch-operation-items', { batchOperationKey }, [{ field: 'itemKey', order: 'ASC' }])
  }

  cancel(key: string): Promise<void> {
    return this.call('POST', `process-instances/${key}/cancellation`, {}, false).then(() => undefined)
  }

  elementInstances(processInstanceKey: string): Promise<ElementInstance[]> {
    return this.search<ElementInstance>('element-instances', { processInstanceKey }, [{ field: 'startDate', order: 'ASC' }])
  }

  incidents(filter: Record<string, unknown>): Promise<EngineIncident[]> {
    return this.search<EngineIncident>('incidents', filter, [{ field: 'creationTime', order: 'ASC' }])
  }

  incident(key: string): Promise<EngineIncident> {
    return this.call<EngineIncident>('GET', `incidents/${key}`)
  }

  /** Variables of one scope (the process instance by default). */
  async variables(filter: { processInstanceKey?: string; scopeKey?: string; name?: string }): Promise<Variable[]> {
    const items = await this.search<VariableItem>('variables', filter, [{ field: 'name', order: 'ASC' }])
    return Promise.all(items.map((item) => this.parsed(item)))
  }

  /** Gives a job's retries back, as Operate's "retry" does before resolving the incident. */
  updateJobRetries(jobKey: string, retries: number): Promise<void> {
    return this.call('PATCH', `jobs/${jobKey}`, { changeset: { retries } }, false).then(() => undefined)
  }

  resolveIncident(key: string): Promise<void> {
    return this.call('POST', `incidents/${key}/resolution`, {}, false).then(() => undefined)
  }

  /** Sets variables on an element instance's scope (the process instance's, given its key), as Operate's variable edit does. */
  setVariables(elementInstanceKey: string, variables: Record<string, unknown>): Promise<void> {
    return this.call('PUT', `element-instances/${elementInstanceKey}/variables`, { variables, local: false }, false).then(() => undefined)
  }

  /** Evaluates the latest version of a deployed decision; its output as the decision gives it. */
  async evaluateDecision(decisionDefinitionId: string, variables: Record<string, unknown>): Promise<unknown> {
    const result = await this.call<{ output: unknown }>('POST', 'decision-definitions/evaluation', { decisionDefinitionId, variables })
    // 8.8 answers the output as a JSON string.
    return typeof result.output === 'string' ? JSON.parse(result.output) : result.output
  }

  private async parsed(item: VariableItem): Promise<Variable> {
    return { name: item.name, value: await variableValue(this.json, item), scopeKey: item.scopeKey }
  }

  private search<T>(entity: string, filter: Record<string, unknown>, sort: Array<{ field: string; order: 'ASC' | 'DESC' }>): Promise<T[]> {
    return search<T>(this.json, entity, { filter, sort })
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', urlPath: string, body?: Record<string, unknown>, json = true): Promise<T> {
    try {
      if (json) return await this.rest.callApiEndpoint<Record<string, unknown>, T>({ method, urlPath, body })
      return (await this.rest.callApiEndpoint<Record<string, unknown>>({ method, urlPath, body, json: false })) as T
    } catch (error) {
      throw this.failure(error, `${method} /v2/${urlPath}`)
    }
  }
}
