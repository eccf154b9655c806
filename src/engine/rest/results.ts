/**
 * Engine records -> Camunda 8.8 REST result shapes: keys stay decimal strings, epoch-ms dates
 * become ISO-8601 strings, engine states become the REST enums.
 */
import type {
  ActivatedJob, EngineQueries, DecisionDefinitionRecord, DecisionRequirementsRecord, ElementInstanceRecord, FormRecord,
  IncidentRecord, JobRecord, Key, ListenerEventType, ProcessDefinitionRecord, ProcessInstanceRecord, UserTaskRecord,
  VariableRecord,
} from '../api'

const DAY_MS = 86_400_000
/** 10000-01-01: from there on (and before 1970, and for a fraction of a ms) the Date object formats. */
const FORMATTED_UNTIL = 253_402_300_800_000
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'))
let lastDay = NaN
let lastDayPrefix = ''

/**
 * An engine time (epoch ms) as Date's toISOString gives it (`2026-12-07T15:32:01.250Z`). A search
 * formats two dates per item it reads, and reads up to 10,001 to count: the day's part is kept
 * from the last call and the time of day put together from tables, five times as fast.
 */
export function isoDate(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS)
  if (day !== lastDay) {
    if (!(Number.isInteger(epochMs) && epochMs >= 0 && epochMs < FORMATTED_UNTIL)) return new Date(epochMs).toISOString()
    lastDay = day
    lastDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11)
  } else if (!Number.isInteger(epochMs)) {
    return new Date(epochMs).toISOString()
  }
  let rest = epochMs - day * DAY_MS
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  return `${lastDayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}Z`
}

/** User-task dates are stored as written; REST answers them as UTC ISO strings when they parse. */
function normalisedDate(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? value : isoDate(ms)
}

export interface ProcessInstanceResult {
  processDefinitionId: string
  processDefinitionName: string
  processDefinitionVersion: number
  processDefinitionVersionTag?: string
  startDate: string
  endDate?: string
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED'
  hasIncident: boolean
  tenantId: string
  processInstanceKey: Key
  processDefinitionKey: Key
  parentProcessInstanceKey?: Key
  parentElementInstanceKey?: Key
}

export interface ElementInstanceResult {
  processDefinitionId: string
  startDate: string
  endDate?: string
  elementId: string
  elementName: string
  type: string
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED'
  hasIncident: boolean
  tenantId: string
  elementInstanceKey: Key
  processInstanceKey: Key
  processDefinitionKey: Key
  incidentKey?: Key
}

export interface VariableSearchResult {
  name: string
  value: string
  isTruncated: boolean
  tenantId: string
  variableKey: Key
  scopeKey: Key
  processInstanceKey: Key
}

export interface IncidentResult {
  processDefinitionId: string
  errorType: string
  errorMessage: string
  elementId: string
  creationTime: string
  state: string
  tenantId: string
  incidentKey: Key
  processDefinitionKey: Key
  processInstanceKey: Key
  elementInstanceKey: Key
  jobKey?: Key
}

export interface UserTaskResult {
  name?: string
  state: string
  assignee?: string
  elementId: string
  candidateGroups: string[]
  candidateUsers: string[]
  processDefinitionId: string
  creationDate: string
  completionDate?: string
  followUpDate?: string
  dueDate?: string
  tenantId: string
  externalFormReference?: string
  processDefinitionVersion: number
  customHeaders: Record<string, string>
  priority: number
  userTaskKey: Key
  elementInstanceKey: Key
  processName?: string
  processDefinitionKey: Key
  processInstanceKey: Key
  formKey?: Key
}

export interface JobSearchResult {
  customHeaders: Record<string, string>
  deadline?: string
  elementId: string
  elementInstanceKey: Key
  errorMessage?: string
  hasFailedWithRetriesLeft: boolean
  jobKey: Key
  kind: 'BPMN_ELEMENT' | 'EXECUTION_LISTENER' | 'TASK_LISTENER' | 'AD_HOC_SUB_PROCESS'
  listenerEventType: 'UNSPECIFIED' | ListenerEventType
  processDefinitionId: string
  processDefinitionKey: Key
  processInstanceKey: Key
  retries: number
  state: string
  tenantId: string
  type: string
  worker: string
}

export interface ProcessDefinitionResult {
  name?: string
  resourceName: string
  version: number
  versionTag?: string
  processDefinitionId: string
  tenantId: string
  processDefinitionKey: Key
  hasStartForm: boolean
}

export interface DecisionDefinitionResult {
  decisionDefinitionId: string
  name?: string
  version: number
  decisionRequirementsId: string
  tenantId: string
  decisionDefinitionKey: Key
  decisionRequirementsKey: Key
}

export interface DecisionRequirementsResult {
  decisionRequirementsName?: string
  version: number
  decisionRequirementsId: string
  resourceName: string
  tenantId: string
  decisionRequirementsKey: Key
}

/**
 * Without its undefined members, so optional fields are absent rather than null. A copy: deleting
 * members would turn each result into a slow dictionary object, and a search may build 10,000.
 */
function compact<T extends object>(value: T): T {
  const out: Partial<T> = {}
  for (const k in value) if (value[k] !== undefined) out[k] = value[k]
  return out as T
}

function finalState(lifecycle: ElementInstanceRecord['lifecycle']): ElementInstanceResult['state'] {
  return lifecycle === 'COMPLETED' ? 'COMPLETED' : lifecycle === 'TERMINATED' ? 'TERMINATED' : 'ACTIVE'
}

/**
 * Derived facts that several result shapes need (incidents, definition names): read once per
 * request from the engine queries.
 */
export class ResultContext {
  private incidentsByElement: Map<Key, Key> | undefined
  private instancesWithIncident: Set<Key> | undefined
  private definitions: Map<Key, ProcessDefinitionRecord> | undefined

  constructor(readonly queries: EngineQueries) {}

  private indexIncidents(): void {
    this.incidentsByElement = new Map()
    this.instancesWithIncident = new Set()
    for (const incident of this.queries.incidents({ live: true })) {
      if (incident.state !== 'ACTIVE') continue
      this.incidentsByElement.set(incident.elementInstanceKey, incident.key)
      this.instancesWithIncident.add(incident.processInstanceKey)
    }
  }

  activeIncidentOf(elementInstanceKey: Key): Key | undefined {
    if (!this.incidentsByElement) this.indexIncidents()
    return this.incidentsByElement?.get(elementInstanceKey)
  }

  hasIncident(processInstanceKey: Key): boolean {
    if (!this.instancesWithIncident) this.indexIncidents()
    return this.instancesWithIncident?.has(processInstanceKey) ?? false
  }

  definition(processDefinitionKey: Key): ProcessDefinitionRecord | undefined {
    if (!this.definitions) {
      this.definitions = new Map()
      for (const d of this.queries.processDefinitions()) this.definitions.set(d.key, d)
    }
    return this.definitions.get(processDefinitionKey)
  }

  processInstance(record: ProcessInstanceRecord): ProcessInstanceResult {
    const definition = this.definition(record.processDefinitionKey)
    return compact({
      processDefinitionId: record.bpmnProcessId,
      processDefinitionName: definition?.name ?? record.bpmnProcessId,
      processDefinitionVersion: record.version,
      processDefinitionVersionTag: definition?.versionTag,
      startDate: isoDate(record.startDate),
      endDate: record.endDate === undefined ? undefined : isoDate(record.endDate),
      state: record.state,
      hasIncident: this.hasIncident(record.key),
      tenantId: record.tenantId,
      processInstanceKey: record.key,
      processDefinitionKey: record.processDefinitionKey,
      parentProcessInstanceKey: record.parentProcessInstanceKey,
      parentElementInstanceKey: record.parentElementInstanceKey,
    })
  }

  elementInstance(record: ElementInstanceRecord): ElementInstanceResult {
    const incidentKey = this.activeIncidentOf(record.key)
    return compact({
      processDefinitionId: record.bpmnProcessId,
      startDate: isoDate(record.startDate),
      endDate: record.endDate === undefined ? undefined : isoDate(record.endDate),
      elementId: record.elementId,
      elementName: record.elementName ?? record.elementId,
      type: record.type,
      state: finalState(record.lifecycle),
      hasIncident: incidentKey !== undefined,
      tenantId: record.tenantId,
      elementInstanceKey: record.key,
      processInstanceKey: record.processInstanceKey,
      processDefinitionKey: record.processDefinitionKey,
      incidentKey,
    })
  }
}

export function variableResult(record: VariableRecord): VariableSearchResult {
  return {
    name: record.name,
    value: JSON.stringify(record.value),
    isTruncated: false,
    tenantId: record.tenantId,
    variableKey: record.key,
    scopeKey: record.scopeKey,
    processInstanceKey: record.processInstanceKey,
  }
}

export function incidentResult(record: IncidentRecord): IncidentResult {
  return compact({
    processDefinitionId: record.bpmnProcessId,
    errorType: record.errorType,
    errorMessage: record.errorMessage,
    elementId: record.elementId,
    creationTime: isoDate(record.creationTime),
    state: record.state,
    tenantId: record.tenantId,
    incidentKey: record.key,
    processDefinitionKey: record.processDefinitionKey,
    processInstanceKey: record.processInstanceKey,
    elementInstanceKey: record.elementInstanceKey,
    jobKey: record.jobKey,
  })
}

export function userTaskResult(record: UserTaskRecord): UserTaskResult {
  return compact({
    name: record.name,
    state: record.state,
    assignee: record.assignee,
    elementId: record.elementId,
    candidateGroups: record.candidateGroups,
    candidateUsers: record.candidateUsers,
    processDefinitionId: record.bpmnProcessId,
    creationDate: isoDate(record.creationDate),
    completionDate: record.completionDate === undefined ? undefined : isoDate(record.completionDate),
    followUpDate: normalisedDate(record.followUpDate),
    dueDate: normalisedDate(record.dueDate),
    tenantId: record.tenantId,
    externalFormReference: record.externalFormReference,
    processDefinitionVersion: record.processDefinitionVersion,
    customHeaders: record.customHeaders,
    priority: record.priority,
    userTaskKey: record.key,
    elementInstanceKey: record.elementInstanceKey,
    processName: record.processName,
    processDefinitionKey: record.processDefinitionKey,
    processInstanceKey: record.processInstanceKey,
    formKey: record.formKey,
  })
}

/** Engine job states -> the REST job states (the last job intent). Completed jobs are gone. */
const JOB_STATE: Record<JobRecord['state'], string> = {
  ACTIVATABLE: 'CREATED',
  ACTIVATED: 'CREATED',
  FAILED: 'FAILED',
  ERROR_THROWN: 'ERROR_THROWN',
}

export function jobResult(record: JobRecord): JobSearchResult {
  return compact({
    customHeaders: record.customHeaders,
    deadline: record.state === 'ACTIVATED' && record.deadline !== undefined ? isoDate(record.deadline) : undefined,
    elementId: record.elementId,
    elementInstanceKey: record.elementInstanceKey,
    errorMessage: record.errorMessage,
    hasFailedWithRetriesLeft: record.errorMessage !== undefined && record.retries > 0,
    jobKey: record.key,
    kind: record.kind ?? 'BPMN_ELEMENT',
    listenerEventType: record.listenerEventType ?? 'UNSPECIFIED',
    processDefinitionId: record.bpmnProcessId,
    processDefinitionKey: record.processDefinitionKey,
    processInstanceKey: record.processInstanceKey,
    retries: record.retries,
    state: JOB_STATE[record.state],
    tenantId: record.tenantId,
    type: record.type,
    worker: record.worker ?? '',
  })
}

export function activatedJobResult(job: ActivatedJob): Record<string, unknown> {
  return {
    type: job.type,
    processDefinitionId: job.bpmnProcessId,
    processDefinitionVersion: job.processDefinitionVersion,
    elementId: job.elementId,
    customHeaders: job.customHeaders,
    worker: job.worker,
    retries: job.retries,
    deadline: job.deadline,
    variables: job.variables,
    tenantId: job.tenantId,
    jobKey: job.key,
    processInstanceKey: job.processInstanceKey,
    processDefinitionKey: job.processDefinitionKey,
    elementInstanceKey: job.elementInstanceKey,
    kind: job.kind ?? 'BPMN_ELEMENT',
    listenerEventType: job.listenerEventType ?? 'UNSPECIFIED',
  }
}

export function processDefinitionResult(record: ProcessDefinitionRecord): ProcessDefinitionResult {
  return compact({
    name: record.name,
    resourceName: record.resourceName,
    version: record.version,
    versionTag: record.versionTag,
    processDefinitionId: record.bpmnProcessId,
    tenantId: record.tenantId,
    processDefinitionKey: record.key,
    // The engine's queries expose no start-event forms; a linked start form is not modelled here.
    hasStartForm: false,
  })
}

export function decisionDefinitionResult(record: DecisionDefinitionRecord): DecisionDefinitionResult {
  return compact({
    decisionDefinitionId: record.decisionId,
    name: record.name,
    version: record.version,
    decisionRequirementsId: record.decisionRequirementsId,
    tenantId: record.tenantId,
    decisionDefinitionKey: record.key,
    decisionRequirementsKey: record.decisionRequirementsKey,
  })
}

export function decisionRequirementsResult(record: DecisionRequirementsRecord): DecisionRequirementsResult {
  return compact({
    decisionRequirementsName: record.name,
    version: record.version,
    decisionRequirementsId: record.decisionRequirementsId,
    resourceName: record.resourceName,
    tenantId: record.tenantId,
    decisionRequirementsKey: record.key,
  })
}

/** GET /v2/user-tasks/{key}/form: 8.8's client schema types `schema` as an object. */
export function formResult(record: FormRecord): Record<string, unknown> {
  return {
    tenantId: record.tenantId,
    formId: record.formId,
    schema: JSON.parse(record.schema) as unknown,
    version: record.version,
    formKey: record.key,
  }
}
