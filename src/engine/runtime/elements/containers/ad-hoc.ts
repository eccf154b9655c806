import { EngineError, type JobResult } from '../../../api'
import type { AdHocDefinition, FlowElement, ProcessModel } from '../../../model/types'
import type { JsonValue } from '../../../state/records'
import { IncidentError } from '../../expressions'
import type { ProcessingContext } from '../../processing'
import type { ElementInstance } from '../../runtime-state'

/*
 * Ad-hoc subprocesses (Zeebe 8.8, docs: components/modeler/bpmn/ad-hoc-subprocesses): entered,
 * the subprocess offers its inner elements with no incoming flow (the adHocSubProcessElements
 * variable) and activates those activeElementsCollection names; more can be activated later
 * through the API. Each time an inner element completes, its output is collected and the
 * completion condition evaluated; without one, the subprocess completes once nothing inside is
 * active (and stays active while nothing was activated).
 *
 * With a job worker implementation (zeebe:taskDefinition, as AI agents use it) the worker decides
 * instead: a job is created on entering and again whenever an inner flow completes (one job at a
 * time), and its completion result names the elements to activate or says the subprocess is done.
 */

/** The inner elements that may be activated: those no sequence flow leads to. */
export function activatableElements(model: ProcessModel, adHoc: FlowElement): FlowElement[] {
  return (adHoc.children ?? []).map((id) => model.elements.get(id) as FlowElement)
    .filter((el) => el.incoming.length === 0 && el.type !== 'boundaryEvent' && !el.isForCompensation && !el.triggeredByEvent)
}

export function enterAdHoc(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, adHoc: AdHocDefinition): void {
  const model = ctx.model(ei)
  const offered = activatableElements(model, el)
  ctx.vars.setLocal(ei.key, 'adHocSubProcessElements', offered.map((inner) => ({
    elementId: inner.id, elementName: inner.name ?? null, documentation: null, properties: {}, parameters: [],
  })))
  if (adHoc.outputCollection) ctx.vars.setLocal(ei.key, adHoc.outputCollection, [])
  if (adHoc.taskDefinition) return ctx.jobs.createAdHocJob(ei, el)
  const ids = adHoc.activeElementsCollection === undefined ? [] : ctx.expr.json(adHoc.activeElementsCollection, ctx.visible(ei))
  if (ids === null) return
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new IncidentError('EXTRACT_VALUE_ERROR', `Expected the activeElementsCollection of ad-hoc sub-process '${el.id}' to be a list of element ids (strings), but it was '${JSON.stringify(ids)}'`)
  }
  activateInner(ctx, ei, el, (ids as string[]).map((elementId) => ({ elementId })))
}

/**
 * Zeebe's reason (AdHocSubProcessUtils) when some of `ids` are not activities the ad-hoc
 * subprocess offers, or undefined when all are.
 */
export function missingAdHocElements(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, ids: string[]): string | undefined {
  const offered = new Set(activatableElements(ctx.model(ei), el).map((inner) => inner.id))
  const unknown = ids.filter((id) => !offered.has(id))
  if (unknown.length === 0) return undefined
  return `Expected to activate activities for ad-hoc sub-process with key '${ei.key}', but the given elements [${unknown.join(', ')}] do not exist.`
}

/** Activate inner elements (on entering, or through the API), each with its local variables. */
export function activateInner(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, elements: { elementId: string; variables?: Record<string, JsonValue> }[]): void {
  const missing = missingAdHocElements(ctx, ei, el, elements.map((e) => e.elementId))
  if (missing) throw new IncidentError('EXTRACT_VALUE_ERROR', missing)
  const offered = new Map(activatableElements(ctx.model(ei), el).map((inner) => [inner.id, inner]))
  if (elements.length > 0) ei.adHocActivated = true
  for (const { elementId, variables } of elements) {
    const inner = offered.get(elementId) as FlowElement
    if (inner.multiInstance || !variables) {
      ctx.flow.activate(ei, inner)
      continue
    }
    const child = ctx.flow.newElementInstance(ei, inner)
    ctx.vars.setLocalDocument(child.key, variables)
    ctx.flow.runActivation(child)
  }
}

/** An inner element completed: collect its flow's output (when it ends a flow), then check the completion condition. */
export function innerCompleted(ctx: ProcessingContext, scope: ElementInstance, inner: ElementInstance, adHoc: AdHocDefinition): void {
  if (adHoc.outputCollection && adHoc.outputElement && (inner.element?.outgoing.length ?? 0) === 0) {
    const value = ctx.expr.json(adHoc.outputElement, () => ({ ...ctx.vars.visible(scope.key), ...ctx.vars.local(inner.key) }))
    const collected = [...((ctx.vars.getLocal(scope.key, adHoc.outputCollection) as JsonValue[] | undefined) ?? []), value]
    ctx.vars.setLocal(scope.key, adHoc.outputCollection, collected)
  }
  if (adHoc.taskDefinition) {
    // An interrupting event subprocess ends the ad-hoc subprocess without asking the worker.
    if (interrupting(ctx, scope, inner)) scope.adHocDone = true
    // Otherwise the worker decides what comes next once a flow inside has ended.
    if (!scope.adHocDone && (inner.element?.outgoing.length ?? 0) === 0) ctx.jobs.createAdHocJob(scope, scope.element as FlowElement)
    return
  }
  if (adHoc.completionCondition === undefined || scope.adHocDone) return
  if (!ctx.expr.boolean(adHoc.completionCondition, ctx.visible(scope))) return
  scope.adHocDone = true
  if (adHoc.cancelRemainingInstances) cancelRemaining(ctx, scope, inner.key)
}

function interrupting(ctx: ProcessingContext, scope: ElementInstance, inner: ElementInstance): boolean {
  const el = inner.element
  if (!el?.triggeredByEvent) return false
  const start = ctx.model(scope).elements.get((el.startEvents ?? [])[0] ?? '')
  return start?.isInterrupting !== false
}

function cancelRemaining(ctx: ProcessingContext, scope: ElementInstance, except?: string): void {
  for (const key of ctx.state.activeChildren.keys(scope.key)) {
    if (key !== except) ctx.flow.terminate(ctx.state.elements.get(key) as ElementInstance)
  }
}

/**
 * Why Zeebe (JobCompleteProcessor, AdHocSubProcessUtils) refuses a job result for the ad-hoc
 * subprocess `el`, or undefined when it can be applied.
 */
export function adHocResultRejection(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, jobKey: string, result: JobResult): EngineError | undefined {
  const elements = result.activateElements ?? []
  const missing = missingAdHocElements(ctx, ei, el, elements.map((e) => e.elementId))
  if (missing) return new EngineError('NOT_FOUND', missing, 'COMPLETE')
  if (result.isCompletionConditionFulfilled && elements.length > 0) {
    return new EngineError('INVALID_ARGUMENT', `Expected to complete ad-hoc sub-process job, but the job result contains elements to be activated while the completion condition is fulfilled (job key '${jobKey}'). When the completion condition is fulfilled, no further element activations are allowed. Either remove the elements to be activated from the job result, or set the completion condition to not fulfilled.`, 'COMPLETE')
  }
  return undefined
}

/** The worker's job is done: its decision (the REST job result `adHocSubProcess`) is applied. */
export function applyAdHocJobResult(ctx: ProcessingContext, ei: ElementInstance, el: FlowElement, result: JobResult): void {
  activateInner(ctx, ei, el, result.activateElements ?? [])
  if (!result.isCompletionConditionFulfilled) return
  ei.adHocDone = true
  if (result.isCancelRemainingInstances) cancelRemaining(ctx, ei)
  ctx.state.work.push({ k: 'check', scope: ei.key })
}

/** The ad-hoc subprocess completes: its collected output goes to its flow scope. */
export function leaveAdHoc(ctx: ProcessingContext, ei: ElementInstance, adHoc: AdHocDefinition): void {
  if (!adHoc.outputCollection || ei.scopeKey === undefined) return
  ctx.vars.merge(ei.scopeKey, { [adHoc.outputCollection]: (ctx.vars.getLocal(ei.key, adHoc.outputCollection) as JsonValue | undefined) ?? [] })
}
