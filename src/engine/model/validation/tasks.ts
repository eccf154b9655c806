/** Task kinds: job workers, scripts, decisions, user tasks and their forms, call activities. */
import { BINDING_TYPES } from '../bpmn-reader'
import { isZonedDateTime } from '../iso8601'
import { extension, extensions, str, trimmed, type ModdleElement } from '../moddle'
import type { FlowElement } from '../types'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'

export function checkTask(ctx: ValidationContext, item: ModdleElement, element: FlowElement): void {
  switch (element.type) {
    case 'serviceTask':
    case 'sendTask':
      checkTaskDefinition(ctx, item, element.id, true)
      break
    case 'scriptTask':
      checkScriptTask(ctx, item, element.id)
      break
    case 'businessRuleTask':
      checkBusinessRuleTask(ctx, item, element.id)
      break
    case 'userTask':
      checkUserTask(ctx, item, element.id)
      break
    case 'callActivity':
      checkCalledElement(ctx, item, element.id)
      break
    default:
      break
  }
}

/** A job worker's zeebe:taskDefinition: exactly one when `required`, at most one otherwise. */
export function checkTaskDefinition(ctx: ValidationContext, item: ModdleElement, id: string, required: boolean): void {
  const definitions = extensions(item, 'zeebe:TaskDefinition')
  if (definitions.length !== 1) {
    if (required || definitions.length > 1) ctx.problem(id, "Must have exactly one 'zeebe:taskDefinition' extension element")
    if (definitions.length === 0) return
  }
  const definition = definitions[0]
  const type = trimmed(str(definition, 'type'))
  if (type === undefined) ctx.problem(id, "Attribute 'type' must be present and not empty")
  else checkExpression(ctx, id, type, {})
  const retries = trimmed(str(definition, 'retries')) ?? '3'
  checkExpression(ctx, id, retries, {})
  if (!retries.startsWith('=') && !/^-?\d+$/.test(retries)) {
    ctx.problem(id, `Expected attribute 'retries' to be a number or an expression, but found '${retries}'`)
  }
}

function checkScriptTask(ctx: ValidationContext, item: ModdleElement, id: string): void {
  const scripts = extensions(item, 'zeebe:Script')
  const jobs = extensions(item, 'zeebe:TaskDefinition')
  if (scripts.length + jobs.length !== 1) {
    ctx.problem(id, "Must have either one 'zeebe:script' or one 'zeebe:taskDefinition' extension element")
  }
  if (jobs.length > 0) checkTaskDefinition(ctx, item, id, false)
  if (scripts.length === 0) return
  const expression = trimmed(str(scripts[0], 'expression'))
  if (expression === undefined) ctx.problem(id, "Attribute 'expression' must be present and not empty")
  else checkExpression(ctx, id, expression, { nonStatic: true })
  if (trimmed(str(scripts[0], 'resultVariable')) === undefined) ctx.problem(id, "Attribute 'resultVariable' must be present and not empty")
}

function checkBusinessRuleTask(ctx: ValidationContext, item: ModdleElement, id: string): void {
  const decisions = extensions(item, 'zeebe:CalledDecision')
  const jobs = extensions(item, 'zeebe:TaskDefinition')
  if (decisions.length + jobs.length !== 1) {
    ctx.problem(id, "Must have either one 'zeebe:calledDecision' or one 'zeebe:taskDefinition' extension element")
  }
  if (jobs.length > 0) checkTaskDefinition(ctx, item, id, false)
  if (decisions.length === 0) return
  const decision = decisions[0]
  const decisionId = trimmed(str(decision, 'decisionId'))
  if (decisionId === undefined) ctx.problem(id, "Attribute 'decisionId' must be present and not empty")
  else checkExpression(ctx, id, decisionId, {})
  if (trimmed(str(decision, 'resultVariable')) === undefined) ctx.problem(id, "Attribute 'resultVariable' must be present and not empty")
  checkBinding(ctx, id, decision)
}

function checkBinding(ctx: ValidationContext, elementId: string, extensionElement: ModdleElement): void {
  const raw = str(extensionElement, 'bindingType') ?? 'latest'
  if (!BINDING_TYPES.has(raw)) {
    ctx.problem(elementId, `Attribute 'bindingType' must be one of: latest, deployment, versionTag, but was '${raw}'`)
  }
  if (raw === 'versionTag' && trimmed(str(extensionElement, 'versionTag')) === undefined) {
    ctx.problem(elementId, "Attribute 'versionTag' must be present and not empty if 'bindingType' is 'versionTag'")
  }
}

function checkUserTask(ctx: ValidationContext, item: ModdleElement, id: string): void {
  const assignment = extension(item, 'zeebe:AssignmentDefinition')
  for (const key of ['assignee', 'candidateGroups', 'candidateUsers'] as const) {
    const value = trimmed(str(assignment, key))
    if (value !== undefined) checkExpression(ctx, id, value, {})
  }
  const schedule = extension(item, 'zeebe:TaskSchedule')
  for (const key of ['dueDate', 'followUpDate'] as const) {
    const value = trimmed(str(schedule, key))
    if (value === undefined) continue
    checkExpression(ctx, id, value, {})
    if (!value.startsWith('=') && !isZonedDateTime(value)) {
      ctx.problem(id, `Expected attribute '${key}' to be a valid DateTime String, e.g. '2023-03-02T15:35+02:00', but found '${value}'`)
    }
  }
  const priorityDefinition = extension(item, 'zeebe:PriorityDefinition')
  if (priorityDefinition !== undefined) {
    const priority = trimmed(str(priorityDefinition, 'priority'))
    if (priority === undefined) ctx.problem(id, "Attribute 'priority' must be present and not empty")
    else {
      checkExpression(ctx, id, priority, {})
      if (!priority.startsWith('=') && !(/^\d+$/.test(priority) && Number(priority) <= 100)) {
        ctx.problem(id, `Expected attribute 'priority' to be a valid Number between 0 and 100, but found '${priority}'`)
      }
    }
  }
  const form = extension(item, 'zeebe:FormDefinition')
  if (form !== undefined) checkForm(ctx, id, form)
}

function checkForm(ctx: ValidationContext, id: string, form: ModdleElement): void {
  const formId = trimmed(str(form, 'formId'))
  const externalReference = trimmed(str(form, 'externalReference'))
  const formKey = trimmed(str(form, 'formKey'))
  const given = [formId, externalReference, formKey].filter((value) => value !== undefined)
  if (given.length !== 1) {
    ctx.problem(id, "Exactly one of the attributes 'formId', 'formKey' or 'externalReference' must be present and not empty")
  }
  if (externalReference !== undefined) checkExpression(ctx, id, externalReference, {})
  if (formId !== undefined) checkBinding(ctx, id, form)
}

function checkCalledElement(ctx: ValidationContext, item: ModdleElement, id: string): void {
  const called = extensions(item, 'zeebe:CalledElement')
  if (called.length !== 1) ctx.problem(id, "Must have exactly one 'zeebe:calledElement' extension element")
  const definition = called[0]
  const processId = trimmed(str(definition, 'processId'))
  if (definition !== undefined && processId === undefined) {
    ctx.problem(id, "Attribute 'processId' must be present and not empty")
  }
  if (processId !== undefined) checkExpression(ctx, id, processId, {})
  if (definition !== undefined) checkBinding(ctx, id, definition)
}
