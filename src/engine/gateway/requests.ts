/**
 * Each RPC's request as proto-loader decodes it (keepCase, int64 as decimal strings, proto3
 * defaults filled in), and its decoding into the engine's input: validation the gateway does
 * itself answers INVALID_ARGUMENT before the engine is asked.
 */
import type {
  ActivateJobsInput, CreateInstanceInput, DeployResourceInput, EngineApi, JobStream, MigrateInstanceInput, ModifyInstanceInput,
  PublishMessageInput, VariableDocument,
} from '../api'
import { markLongDocument, timeToLiveProblem, variablesDepthProblem } from '../protocol'
import { invalidArgument } from './errors'

/** The only tenant of an engine without multi-tenancy, as Zeebe names it. */
const DEFAULT_TENANT_ID = '<default>'

/**
 * Zeebe 8.8 with multi-tenancy disabled refuses any tenant but '<default>' (an empty id means it).
 * Returns the tenant to use. Throws INVALID_ARGUMENT worded as Zeebe's gateway words it.
 */
export function defaultTenantOnly(requestName: string, ...tenantIds: Array<string | undefined>): string | undefined {
  const other = tenantIds.find((tenantId) => tenantId !== undefined && tenantId !== '' && tenantId !== DEFAULT_TENANT_ID)
  if (other !== undefined) throw invalidArgument(`Expected to handle gRPC request ${requestName} with tenant identifier '${other}', but multi-tenancy is disabled`)
  return tenantIds.find((tenantId) => tenantId !== undefined && tenantId !== '')
}

/**
 * A variables field as the gRPC thread hands it over: the JSON text, or, for text of
 * PREPARSE_CHARS or more that holds a JSON object, that object, parsed in the thread
 * (gateway-thread.ts), with the text's length and the JSON of its long string variables as bytes.
 */
export type VariablesField = string | { parsed: object; chars: number; values?: Record<string, Uint8Array> }

export interface CreateProcessInstanceRequest {
  processDefinitionKey: string
  bpmnProcessId: string
  version: number
  variables: VariablesField
  startInstructions: { elementId: string }[]
  tenantId: string
}
export interface CreateProcessInstanceWithResultRequest {
  request: CreateProcessInstanceRequest | null
  requestTimeout: string
  fetchVariables: string[]
}
export interface ActivateJobsRequest {
  type: string
  worker: string
  timeout: string
  maxJobsToActivate: number
  fetchVariable: string[]
  requestTimeout: string
  tenantIds: string[]
}
export type StreamActivatedJobsRequest = Omit<ActivateJobsRequest, 'maxJobsToActivate' | 'requestTimeout'>
export interface DeployResourceRequest { resources: { name: string; content: Buffer }[]; tenantId: string }
export interface CompleteJobRequest { jobKey: string; variables: VariablesField }
export interface FailJobRequest { jobKey: string; retries: number; errorMessage: string; retryBackOff: string; variables: VariablesField }
export interface ThrowErrorRequest { jobKey: string; errorCode: string; errorMessage: string; variables: VariablesField }
export interface PublishMessageRequest {
  name: string
  correlationKey: string
  timeToLive: string
  messageId: string
  variables: VariablesField
  tenantId: string
}
export interface BroadcastSignalRequest { signalName: string; variables: VariablesField; tenantId: string }
export interface SetVariablesRequest { elementInstanceKey: string; variables: VariablesField; local: boolean }
export interface EvaluateDecisionRequest { decisionKey: string; decisionId: string; variables: VariablesField; tenantId: string }

/** Variables travel as JSON strings (or parsed already: VariablesField); an empty string means no variables. */
export function parseVariables(json: VariablesField | undefined, field = 'variables'): VariableDocument | undefined {
  if (json === undefined) return undefined
  let parsed: unknown
  if (typeof json === 'object') {
    parsed = json.parsed
    markLongDocument(json.parsed, json.chars, json.values)
  } else {
    if (json.trim() === '') return undefined
    try {
      parsed = JSON.parse(json)
    } catch (error) {
      throw invalidArgument(`Property '${field}' is invalid: expected a JSON document, but '${shorten(json)}' is not valid JSON (${(error as Error).message})`)
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = parsed === null ? 'NIL' : Array.isArray(parsed) ? 'ARRAY' : typeof parsed === 'string' ? 'STRING' : typeof parsed === 'number' ? 'NUMBER' : 'BOOLEAN'
    throw invalidArgument(`Property '${field}' is invalid: Expected document to be a root level object, but was '${kind}'`)
  }
  const tooDeep = variablesDepthProblem(parsed)
  if (tooDeep) throw invalidArgument(`Property '${field}' is invalid: ${tooDeep}`)
  return parsed as VariableDocument
}

function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}...` : text
}

/** int64 fields arrive as decimal strings (longs: String); proto3 sends 0 for absent. */
export function toNumber(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value)
}

export function optionalKey(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === '0' ? undefined : value
}

export function optionalString(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

export function optionalList(values: string[] | undefined): string[] | undefined {
  return values && values.length > 0 ? values : undefined
}

export function requireNotBlank(value: string | undefined, field: string, request: string): string {
  if (value === undefined || value.trim() === '') {
    throw invalidArgument(`Expected ${request}'s ${field} to be a non-empty string, but it was blank`)
  }
  return value
}

export function createInstanceInput(request: CreateProcessInstanceRequest): CreateInstanceInput {
  const processDefinitionKey = optionalKey(request.processDefinitionKey)
  const bpmnProcessId = optionalString(request.bpmnProcessId)
  if (!processDefinitionKey && !bpmnProcessId) {
    throw invalidArgument('Expected either a bpmnProcessId or a processDefinitionKey, but none given')
  }
  return {
    processDefinitionKey,
    bpmnProcessId,
    version: request.version > 0 ? request.version : -1,
    variables: parseVariables(request.variables),
    startInstructions: request.startInstructions?.length ? request.startInstructions.map((s) => ({ elementId: s.elementId })) : undefined,
    tenantId: defaultTenantOnly('CreateProcessInstance', optionalString(request.tenantId)),
  }
}

export function deployInput(request: DeployResourceRequest): { resources: DeployResourceInput[]; tenantId: string | undefined } {
  return {
    resources: request.resources.map((r) => ({ name: r.name, content: Buffer.from(r.content) })),
    tenantId: defaultTenantOnly('DeployResource', optionalString(request.tenantId)),
  }
}

function tenantList(requestName: string, tenantIds: string[] | undefined): string[] | undefined {
  defaultTenantOnly(requestName, ...(tenantIds ?? []))
  return tenantIds
}

/** ActivateJobs: the activation, and the long-poll time (0 = the default, negative = answer at once). */
export function activateJobsInput(request: ActivateJobsRequest): { input: ActivateJobsInput; requestTimeout: number } {
  const type = requireNotBlank(request.type, 'type', 'ActivateJobsRequest')
  const timeout = toNumber(request.timeout)
  if (!(timeout >= 1)) throw invalidArgument(`Expected ActivateJobsRequest's timeout to be at least 1, but it was ${request.timeout}`)
  if (!(request.maxJobsToActivate >= 1)) throw invalidArgument(`Expected ActivateJobsRequest's maxJobsToActivate to be at least 1, but it was ${request.maxJobsToActivate}`)
  return {
    input: {
      type,
      worker: request.worker || 'default',
      timeout,
      maxJobsToActivate: request.maxJobsToActivate,
      fetchVariables: optionalList(request.fetchVariable),
      tenantIds: tenantList('ActivateJobs', optionalList(request.tenantIds)),
    },
    requestTimeout: toNumber(request.requestTimeout),
  }
}

/** StreamActivatedJobs: the stream's settings, without its push. */
export function jobStreamInput(request: StreamActivatedJobsRequest): Omit<JobStream, 'push'> {
  const type = requireNotBlank(request.type, 'type', 'StreamActivatedJobsRequest')
  const timeout = toNumber(request.timeout)
  if (!(timeout >= 1)) throw invalidArgument(`Expected StreamActivatedJobsRequest's timeout to be at least 1, but it was ${request.timeout}`)
  return {
    type,
    worker: request.worker || 'default',
    timeout,
    fetchVariables: optionalList(request.fetchVariable),
    tenantIds: tenantList('StreamActivatedJobs', optionalList(request.tenantIds)),
  }
}

export function publishMessageInput(request: PublishMessageRequest): PublishMessageInput {
  const name = requireNotBlank(request.name, 'name', 'PublishMessageRequest')
  const ttlProblem = timeToLiveProblem(request.timeToLive)
  if (ttlProblem) throw invalidArgument(ttlProblem)
  return {
    name,
    correlationKey: request.correlationKey,
    timeToLive: toNumber(request.timeToLive),
    messageId: optionalString(request.messageId),
    variables: parseVariables(request.variables),
    tenantId: defaultTenantOnly('PublishMessage', optionalString(request.tenantId)),
  }
}

export function setVariablesDocument(request: SetVariablesRequest): VariableDocument {
  const variables = parseVariables(request.variables)
  if (variables === undefined) {
    throw invalidArgument(`Property 'variables' is invalid: Expected document to be a root level object, but was empty`)
  }
  return variables
}

export function evaluateDecisionInput(request: EvaluateDecisionRequest): Parameters<EngineApi['evaluateDecision']>[0] {
  const decisionKey = optionalKey(request.decisionKey)
  const decisionId = optionalString(request.decisionId)
  if (!decisionKey && !decisionId) {
    throw invalidArgument('Expected either a decisionId or a decisionKey, but none given')
  }
  return {
    decisionKey,
    decisionId,
    variables: parseVariables(request.variables),
    tenantId: defaultTenantOnly('EvaluateDecision', optionalString(request.tenantId)),
  }
}

export interface ModifyProcessInstanceRequest {
  processInstanceKey: string
  activateInstructions: { elementId: string; ancestorElementInstanceKey: string; variableInstructions: { variables: VariablesField; scopeId: string }[] }[]
  terminateInstructions: { elementInstanceKey: string }[]
}

export function modifyInstanceInput(request: ModifyProcessInstanceRequest): ModifyInstanceInput {
  return {
    processInstanceKey: request.processInstanceKey,
    activateInstructions: request.activateInstructions.map((a) => ({
      elementId: a.elementId,
      ancestorElementInstanceKey: optionalKey(a.ancestorElementInstanceKey),
      variableInstructions: a.variableInstructions.map((v) => ({ variables: parseVariables(v.variables) ?? {}, scopeId: v.scopeId })),
    })),
    terminateInstructions: request.terminateInstructions.map((t) => ({ elementInstanceKey: t.elementInstanceKey })),
  }
}

export interface MigrateProcessInstanceRequest {
  processInstanceKey: string
  migrationPlan: { targetProcessDefinitionKey: string; mappingInstructions: { sourceElementId: string; targetElementId: string }[] } | null
}

export function migrateInstanceInput(request: MigrateProcessInstanceRequest): MigrateInstanceInput {
  if (!request.migrationPlan) throw invalidArgument('Expected argument \'migrationPlan\' not to be null')
  return {
    processInstanceKey: request.processInstanceKey,
    targetProcessDefinitionKey: request.migrationPlan.targetProcessDefinitionKey,
    mappingInstructions: request.migrationPlan.mappingInstructions.map((m) => ({ sourceElementId: m.sourceElementId, targetElementId: m.targetElementId })),
  }
}
