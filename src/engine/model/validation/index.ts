/**
 * Validation of a read process, following Zeebe 8.8: every problem is collected (not just the
 * first), each with the id of the element it concerns, in the wording Zeebe uses where it is
 * known. Each concern has its own checker; this entry runs them per element in document order,
 * then the checks that need the whole graph.
 */
import { ACTIVITY_TYPES, EVENT_TYPES, type ReadProcess } from '../bpmn-reader'
import type { Problem } from '../types'
import { ValidationContext } from './context'
import {
  checkAttachedToRef, checkBoundaryHosts, checkCompensationHandler, checkDuplicateCatchEvents, checkEvent, checkEventFlows, checkLinkEvents, checkMessage, checkProcessStartEvents,
} from './events'
import { checkMappings } from './expressions'
import { checkExecutionListeners, checkTaskListeners } from './listeners'
import { checkDefaultFlow, checkFlowEnds } from './flows'
import { checkCondition, checkGateway } from './gateways'
import { checkIdAndKind, checkProcessId } from './ids'
import { checkMultiInstance } from './multi-instance'
import { checkScopeEventSubProcesses, checkSubProcess } from './scopes'
import { checkTask } from './tasks'

export { moddleWarningProblems } from './ids'

/** Every problem of one read process, appended to `problems`. */
export function validateProcess(read: ReadProcess, problems: Problem[]): void {
  const ctx = new ValidationContext(read, problems)
  checkProcessId(ctx)
  for (const entry of read.entries) {
    if (!checkIdAndKind(ctx, entry)) continue
    if (entry.flow !== undefined) {
      checkCondition(ctx, entry.flow)
      continue
    }
    const element = entry.element
    if (element === undefined) continue
    checkMappings(ctx, entry.item, element.id)
    if (EVENT_TYPES.has(element.type)) checkEvent(ctx, entry.item, element)
    if (ACTIVITY_TYPES.has(element.type)) checkMultiInstance(ctx, entry.item, element.id)
    checkTask(ctx, entry.item, element)
    if (element.type === 'receiveTask') checkMessage(ctx, entry.item, element.id, 'messageRef', true)
    checkAttachedToRef(ctx, element)
    checkExecutionListeners(ctx, element.id, element.executionListeners ?? [], element)
    checkTaskListeners(ctx, element)
  }
  checkFlowEnds(ctx)
  checkBoundaryHosts(ctx)
  for (const element of read.model.elements.values()) {
    checkGateway(ctx, element)
    checkEventFlows(ctx, element)
    checkCompensationHandler(ctx, element)
    if (element.type === 'subProcess') {
      checkSubProcess(ctx, element)
      checkLinkEvents(ctx, element.id, element.children ?? [])
    }
    checkDefaultFlow(ctx, element)
    if (element.boundaryEvents.length > 1) checkDuplicateCatchEvents(ctx, element.id, element.boundaryEvents)
  }
  checkProcessStartEvents(ctx)
  checkScopeEventSubProcesses(ctx, read.model.id, read.model.eventSubProcesses)
  checkLinkEvents(ctx, read.model.id, read.model.children)
  checkExecutionListeners(ctx, read.model.id, read.model.executionListeners ?? [])
}
