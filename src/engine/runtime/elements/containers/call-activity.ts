import type { ProcessingContext } from '../../processing'
import type { FlowElement } from '../../../model/types'
import { IncidentError } from '../../expressions'
import type { DeployedProcess } from '../../repository'
import type { ElementInstance } from '../../runtime-state'
import { processor } from '../processor'

function calledProcess(ctx: ProcessingContext, ei: ElementInstance, ce: NonNullable<FlowElement['calledElement']>): { def: DeployedProcess; processId: string } {
  const processId = ctx.expr.string(ce.processId, ctx.visible(ei))
  let def: DeployedProcess | undefined
  if (ce.bindingType === 'deployment') {
    const own = ctx.repo.processes.get(ei.definitionKey)
    def = own ? ctx.repo.processInDeployment(processId, own.record.deploymentKey) : undefined
  } else if (ce.bindingType === 'versionTag') {
    def = ctx.repo.processByVersionTag(processId, ce.versionTag ?? '', ei.tenantId)
  } else {
    def = ctx.repo.latestProcessOf(processId, ei.tenantId)
  }
  if (!def) throw new IncidentError('CALLED_ELEMENT_ERROR', `Expected process with BPMN process id '${processId}' to be deployed, but not found.`)
  return { def, processId }
}

/** Starts a child instance of the called process and waits for it to end; terminated, it terminates the child first. */
export const callActivityProcessor = processor({
  onActivate: (ctx, ei, el) => {
    const ce = el.calledElement
    if (!ce) return ctx.flow.complete(ei)
    const { def, processId } = calledProcess(ctx, ei, ce)
    const none = def.model.startEvents.find((id) => def.model.elements.get(id)?.event?.kind === 'none')
    if (!none) throw new IncidentError('CALLED_ELEMENT_ERROR', `Expected process with BPMN process id '${processId}' to have a none start event, but not found.`)
    const variables = ce.propagateAllParentVariables ? ctx.vars.visible(ei.key) : ctx.vars.local(ei.key)
    ei.lifecycle = 'ACTIVATED'
    ctx.subscriptions.openBoundarySubscriptions(ei, el)
    ctx.instances.start(def, variables, [none], ei)
  },
  // The called instance is terminated first; its user tasks' canceling listeners may hold it, and so the call activity.
  onTerminating: (ctx, ei, withListeners) => {
    const child = ei.childInstanceKey === undefined ? undefined : ctx.state.instances.get(ei.childInstanceKey)
    if (!child || child.state !== 'ACTIVE') return false
    if (!ctx.flow.terminate(ctx.state.elements.get(child.key) as ElementInstance, { k: 'called-instance' }, withListeners)) return true
    ctx.instances.finish(child, 'TERMINATED')
    return false
  },
})
