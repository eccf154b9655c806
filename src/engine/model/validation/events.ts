/**
 * Events: the definitions allowed where an event sits, the message, signal, error and escalation
 * each references, boundary attachment, and catch events a scope could not tell apart.
 */
import {
  EVENT_KINDS, eventPosition, isBoundaryHost, isInterruptingEvent, type EventKind, type EventPosition,
} from '../bpmn-reader'
import { elements, extensions, localName, ref, str, trimmed, type ModdleElement } from '../moddle'
import type { FlowElement } from '../types'
import type { ValidationContext } from './context'
import { checkExpression } from './expressions'
import { checkTaskDefinition } from './tasks'
import { checkTimer } from './timers'

const ALLOWED_KINDS: Partial<Record<EventPosition, { kinds: EventKind[]; message: string }>> = {
  processStart: { kinds: ['message', 'timer', 'signal'], message: 'Start events must be one of: none, message, timer, signal' },
  // Checked on the subprocess, as Zeebe does.
  subProcessStart: { kinds: ['none', 'message', 'timer', 'signal', 'error', 'escalation', 'terminate'], message: '' },
  eventSubProcessStart: { kinds: ['none', 'message', 'timer', 'signal', 'error', 'escalation'], message: '' },
  intermediateCatchEvent: { kinds: ['message', 'timer', 'signal', 'link'], message: 'Intermediate catch events must be one of: message, timer, signal, link' },
  intermediateThrowEvent: { kinds: ['message', 'signal', 'escalation', 'link', 'compensation'], message: 'Intermediate throw events must be one of: none, message, signal, escalation, link, compensation' },
  endEvent: { kinds: ['message', 'signal', 'error', 'escalation', 'terminate', 'compensation'], message: 'End events must be one of: none, error, message, terminate, signal, escalation or compensation' },
  boundaryEvent: { kinds: ['message', 'timer', 'signal', 'error', 'escalation', 'compensation'], message: 'Boundary events must be one of: timer, message, error, signal, escalation' },
}

/** The event definition of a start, end, intermediate or boundary event. */
export function checkEvent(ctx: ValidationContext, item: ModdleElement, element: FlowElement): void {
  const id = element.id
  const position = eventPosition(item, element.type)
  const definitions = elements(item, 'eventDefinitions')
  if (definitions.length > 1 || (definitions.length === 0 && (position === 'intermediateCatchEvent' || position === 'boundaryEvent'))) {
    ctx.problem(id, 'Must have exactly one event definition')
  }
  const interrupting = isInterruptingEvent(item, position)
  const definition = definitions[0]
  if (definition === undefined) return
  const kind = EVENT_KINDS[definition.$type]
  if (kind === undefined) {
    ctx.problem(id, `Event definition of type '${localName(definition.$type)}' is currently not supported`)
    return
  }
  const rule = ALLOWED_KINDS[position]
  if (rule !== undefined && !rule.kinds.includes(kind)) ctx.problem(id, rule.message)
  if (!interrupting && (kind === 'error' || kind === 'terminate')) {
    ctx.problem(id, 'Non-Interrupting event of this type is not allowed')
  }
  const catching = position === 'intermediateCatchEvent' || position === 'boundaryEvent' || position.endsWith('Start')
  switch (kind) {
    case 'message':
      if (catching) checkMessage(ctx, definition, id, 'messageRef', position !== 'processStart')
      else checkTaskDefinition(ctx, item, id, true)
      break
    case 'timer':
      checkTimer(ctx, definition, id, position, interrupting)
      break
    case 'signal':
      checkSignal(ctx, definition, id)
      break
    case 'error':
      checkCode(ctx, definition, id, catching, ERROR)
      break
    case 'escalation':
      checkCode(ctx, definition, id, catching, ESCALATION)
      break
    case 'link':
      if (trimmed(str(definition, 'name')) === undefined) ctx.problem(id, 'Link name must be present and not empty.')
      break
    case 'compensation':
      checkCompensation(ctx, element, position)
      break
    default:
      break
  }
}

/** A message catch: the referenced bpmn:message needs a name, and a zeebe:subscription key where a scope waits. */
export function checkMessage(ctx: ValidationContext, holder: ModdleElement, id: string, property: string, needsCorrelationKey: boolean): void {
  const message = ref(holder, property)
  const missingRef = ctx.unresolvedRef(holder, property)
  if (message === undefined) {
    ctx.problem(id, missingRef !== undefined ? `Must reference a message, but '${missingRef}' is not a message` : 'Must reference a message')
    return
  }
  const messageName = trimmed(str(message, 'name'))
  if (messageName === undefined) ctx.problem(id, `Message '${str(message, 'id') ?? ''}' must have a name`)
  else checkExpression(ctx, id, messageName, {})
  const subscriptions = extensions(message, 'zeebe:Subscription')
  const correlationKey = trimmed(str(subscriptions[0], 'correlationKey'))
  if (needsCorrelationKey) {
    if (subscriptions.length !== 1) ctx.problem(id, "Must have exactly one 'zeebe:subscription' extension element")
    else checkExpression(ctx, id, correlationKey, { mandatory: true, nonStatic: true })
  } else {
    checkExpression(ctx, id, correlationKey, {})
  }
}

function checkSignal(ctx: ValidationContext, definition: ModdleElement, id: string): void {
  const signal = ref(definition, 'signalRef')
  if (signal === undefined) {
    ctx.problem(id, 'Must reference a signal')
    return
  }
  const signalName = trimmed(str(signal, 'name'))
  if (signalName === undefined) ctx.problem(id, `Signal '${str(signal, 'id') ?? ''}' must have a name`)
  else checkExpression(ctx, id, signalName, {})
}

interface CodedEvent { ref: string; codeAttribute: string; noun: string; codeName: string }
const ERROR: CodedEvent = { ref: 'errorRef', codeAttribute: 'errorCode', noun: 'error', codeName: 'ErrorCode' }
const ESCALATION: CodedEvent = { ref: 'escalationRef', codeAttribute: 'escalationCode', noun: 'escalation', codeName: 'EscalationCode' }

/** Error and escalation events: a catch code is optional and static, a throw code mandatory. */
function checkCode(ctx: ValidationContext, definition: ModdleElement, id: string, catching: boolean, coded: CodedEvent): void {
  const target = ref(definition, coded.ref)
  const missingRef = ctx.unresolvedRef(definition, coded.ref)
  if (missingRef !== undefined) ctx.problem(id, `Must reference an ${coded.noun}, but '${missingRef}' is not an ${coded.noun}`)
  if (catching) return
  const code = trimmed(str(target, coded.codeAttribute))
  if (target === undefined && missingRef === undefined) ctx.problem(id, `Must reference an ${coded.noun}`)
  else if (target !== undefined && code === undefined) ctx.problem(id, `${coded.codeName} must be present and not empty`)
  if (code !== undefined) checkExpression(ctx, id, code, {})
}

/** A boundary event names the activity it is attached to. */
export function checkAttachedToRef(ctx: ValidationContext, element: FlowElement): void {
  if (element.type === 'boundaryEvent' && element.attachedTo === undefined) ctx.problem(element.id, 'Must be attached to an activity')
}

/** Once every element is read: the element a boundary event names must be an activity. */
export function checkBoundaryHosts(ctx: ValidationContext): void {
  for (const element of ctx.read.model.elements.values()) {
    if (element.type !== 'boundaryEvent' || element.attachedTo === undefined) continue
    const host = ctx.element(element.attachedTo)
    if (host === undefined || !isBoundaryHost(host)) {
      ctx.problem(element.id, 'Must be attached to an activity')
      continue
    }
    if (element.event?.kind === 'escalation' && host.type !== 'subProcess' && host.type !== 'callActivity') {
      ctx.problem(element.id, 'An escalation boundary event should only be attached to a subprocess, or a call activity.')
    }
  }
}

/** Start and boundary events have no incoming flows, end events no outgoing ones. */
export function checkEventFlows(ctx: ValidationContext, element: FlowElement): void {
  if (element.type === 'endEvent' && element.outgoing.length > 0) {
    ctx.problem(element.id, 'End events must not have outgoing sequence flows to other elements.')
  } else if (element.type === 'startEvent' && element.incoming.length > 0) {
    ctx.problem(element.id, 'Start events must not have incoming sequence flows.')
  } else if (element.type === 'boundaryEvent' && element.incoming.length > 0) {
    ctx.problem(element.id, 'Boundary events must not have incoming sequence flows.')
  }
}

/** A compensation event: its activityRef, a boundary event's handler, and what waits for completion (Zeebe's compensation rules). */
function checkCompensation(ctx: ValidationContext, element: FlowElement, position: EventPosition): void {
  const event = element.event
  if (event?.kind !== 'compensation') return
  const id = element.id
  if (position === 'boundaryEvent') {
    const host = element.attachedTo !== undefined ? ctx.element(element.attachedTo) : undefined
    if (host?.compensationHandler === undefined || element.outgoing.length > 0) {
      ctx.problem(id, 'Compensation boundary events must have a compensation association and no outgoing sequence flows')
    }
    return
  }
  if (!event.waitForCompletion) {
    ctx.problem(id, position === 'endEvent'
      ? 'A compensation end event waitForCompletion attribute must be true or not present'
      : 'A compensation intermediate throw event waitForCompletion attribute must be true or not present')
  }
  if (event.activityRef === undefined) return
  const activity = ctx.element(event.activityRef)
  if (activity === undefined) {
    ctx.problem(id, `The referenced compensation activity '${event.activityRef}' doesn't exist`)
    return
  }
  const isSubProcess = activity.type === 'subProcess' && activity.triggeredByEvent !== true
  if (activity.compensationHandler === undefined && !isSubProcess) {
    ctx.problem(id, `The referenced compensation activity '${activity.id}' must have either a compensation boundary event or be a subprocess`)
  }
  if (activity.scopeId !== element.scopeId) {
    ctx.problem(id, `The referenced compensation activity '${activity.id}' must be in the same scope as the compensation throw event`)
  }
}

const COMPENSATION_TASKS = new Set(['serviceTask', 'userTask', 'sendTask', 'scriptTask', 'manualTask', 'task'])

/** A compensation handler: a task, reached by no sequence flow, with no boundary event. */
export function checkCompensationHandler(ctx: ValidationContext, element: FlowElement): void {
  if (element.isForCompensation !== true) return
  if (!COMPENSATION_TASKS.has(element.type)) {
    ctx.problem(element.id, 'Compensation task must be one of: service task, user task, send task, script task, manual task, or undefined task.')
  }
  if (element.incoming.length > 0) ctx.problem(element.id, 'A compensation handler should have no incoming sequence flows')
  if (element.outgoing.length > 0) ctx.problem(element.id, 'A compensation handler should have no outgoing sequence flows')
  if (element.boundaryEvents.length > 0) ctx.problem(element.id, 'A compensation handler should have no boundary events')
}

/**
 * The link events of one scope (Zeebe's link rules): a catch link name is not used twice, and a
 * throw link has its catch link of the same name in the same scope. Reported on the scope.
 */
export function checkLinkEvents(ctx: ValidationContext, scopeId: string, elementIds: string[]): void {
  const catches = new Map<string, number>()
  const throws: string[] = []
  for (const elementId of elementIds) {
    const element = ctx.element(elementId)
    if (element?.event?.kind !== 'link' || element.event.name === '') continue
    if (element.type === 'intermediateCatchEvent') catches.set(element.event.name, (catches.get(element.event.name) ?? 0) + 1)
    else if (element.type === 'intermediateThrowEvent') throws.push(element.event.name)
  }
  for (const [name, count] of catches) {
    if (count > 1) ctx.problem(scopeId, `Multiple intermediate catch link event definitions with the same name '${name}' are not allowed.`)
  }
  for (const name of new Set(throws)) {
    if (!catches.has(name)) ctx.problem(scopeId, `Can't find an catch link event for the throw link event with the name '${name}'.`)
  }
}

export function checkProcessStartEvents(ctx: ValidationContext): void {
  const model = ctx.read.model
  const starts = model.startEvents.map((id) => ctx.element(id))
  if (starts.length === 0) ctx.problem(model.id, 'Must have at least one start event')
  if (starts.filter((start) => start?.event?.kind === 'none').length > 1) {
    ctx.problem(model.id, 'Multiple none start events are not allowed')
  }
  checkDuplicateCatchEvents(ctx, model.id, model.startEvents)
}

/** Catch events of one scope (or one activity's boundary) must be distinguishable. */
export function checkDuplicateCatchEvents(ctx: ValidationContext, reportOn: string, eventIds: string[]): void {
  const events = eventIds.flatMap((eventId) => {
    const event = ctx.element(eventId)?.event
    return event !== undefined ? [event] : []
  })
  const duplicates = (values: string[]): string[] =>
    [...new Set(values.filter((value, index) => values.indexOf(value) !== index))]
  const messages = events.flatMap((event) => (event.kind === 'message' && event.messageName !== '' ? [event.messageName] : []))
  for (const name of duplicates(messages)) {
    ctx.problem(reportOn, `Multiple message event definitions with the same name '${name}' are not allowed.`)
  }
  const signals = events.flatMap((event) => (event.kind === 'signal' && event.signalName !== '' ? [event.signalName] : []))
  for (const name of duplicates(signals)) {
    ctx.problem(reportOn, `Multiple signal event definitions with the same name '${name}' are not allowed.`)
  }
  const errors = events.flatMap((event) => (event.kind === 'error' ? [event.errorCode ?? ''] : []))
  for (const code of duplicates(errors)) {
    ctx.problem(reportOn, code === ''
      ? 'The same scope can not contain more than one error catch event without error code. An error catch event without error code catches all errors.'
      : `Multiple error catch events with the same error code '${code}' are not supported on the same scope.`)
  }
  const escalations = events.flatMap((event) => (event.kind === 'escalation' ? [event.escalationCode ?? ''] : []))
  for (const code of duplicates(escalations)) {
    ctx.problem(reportOn, code === ''
      ? 'The same scope can not contain more than one escalation catch event without escalation code. An escalation catch event without escalation code catches all escalations.'
      : `Multiple escalation catch events with the same escalation code '${code}' are not supported on the same scope.`)
  }
}
