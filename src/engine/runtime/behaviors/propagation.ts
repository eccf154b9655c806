import type { FlowElement } from '../../model/types'
import type { VariableDocument } from '../../state/records'
import type { ProcessingContext } from '../processing'
import { isInterrupting, type ElementInstance, type InstanceRuntime } from '../runtime-state'

interface Catcher {
  kind: 'boundary' | 'esp'
  owner: ElementInstance
  catchEl: FlowElement
  esp?: FlowElement
}

/** BPMN errors and escalations: the catching boundary event or event subprocess, from the thrower outward. */
export class PropagationBehavior {
  constructor(private readonly ctx: ProcessingContext) {}

  /** Find the catcher of an error thrown at `thrower` and trigger it. False when nothing catches it. */
  throwError(thrower: ElementInstance, code: string, variables: VariableDocument): boolean {
    const found = this.findCatcher(thrower, 'error', code)
    if (!found) return false
    this.triggerCatcher(found, { ...variables })
    return true
  }

  /** Trigger the catcher of an escalation, if any. True when it interrupted the thrower's path. */
  throwEscalation(thrower: ElementInstance, code: string): boolean {
    const found = this.findCatcher(thrower, 'escalation', code)
    if (!found) return false
    const interrupting = isInterrupting(found.catchEl)
    this.triggerCatcher(found, {})
    return interrupting
  }

  availableErrorCodes(thrower: ElementInstance): string[] {
    const codes: string[] = []
    let current: ElementInstance | undefined = thrower
    while (current) {
      const model = this.ctx.model(current)
      for (const id of current.element?.boundaryEvents ?? []) {
        const ev = model.elements.get(id)?.event
        if (ev?.kind === 'error' && ev.errorCode) codes.push(ev.errorCode)
      }
      current = this.ctx.scopeOf(current)
    }
    return codes
  }

  private triggerCatcher(found: Catcher, payload: VariableDocument): void {
    if (found.kind === 'boundary') this.ctx.subscriptions.trigger(found.owner, found.catchEl, payload)
    else this.ctx.subscriptions.triggerEventSubProcess(found.owner, found.esp as FlowElement, found.catchEl, payload)
  }

  private findCatcher(thrower: ElementInstance, kind: 'error' | 'escalation', code: string): Catcher | undefined {
    const ctx = this.ctx
    // Walk outward: the boundary events of each activity, then the event subprocesses of each
    // scope, up to the process and on through the call activity into the parent instance.
    let current: ElementInstance | undefined = thrower
    while (current) {
      const model = ctx.model(current)
      const el = current.element
      // An inner multi-instance instance leaves its boundary events to the body.
      if (el && isActivity(el) && (current.isMiBody || !el.multiInstance)) {
        const match = pickCatch(el.boundaryEvents.map((id) => model.elements.get(id) as FlowElement), kind, code)
        if (match) return { kind: 'boundary', owner: current, catchEl: match }
      }
      const scope = ctx.scopeOf(current)
      if (!scope) {
        const inst = ctx.state.instances.get(current.processInstanceKey) as InstanceRuntime
        current = inst.parentElementInstanceKey ? ctx.state.elements.get(inst.parentElementInstanceKey) : undefined
        continue
      }
      if (!scope.interrupted && !scope.isMiBody) {
        const espIds = scope.type === 'PROCESS' ? model.eventSubProcesses : scope.element?.eventSubProcesses ?? []
        const starts = espIds
          .map((id) => model.elements.get((model.elements.get(id)?.startEvents ?? [])[0] ?? ''))
          .filter((s): s is FlowElement => s !== undefined)
        const match = pickCatch(starts, kind, code)
        if (match) return { kind: 'esp', owner: scope, catchEl: match, esp: model.elements.get(match.scopeId) }
      }
      current = scope
    }
    return undefined
  }
}

export function unhandledErrorMessage(code: string, message: string, available: string[]): string {
  const withMessage = message ? ` with message '${message}'` : ''
  const tail = available.length > 0 ? `Available error events are [${available.join(', ')}]` : 'No error events are available in the scope.'
  return `Expected to throw an error event with the code '${code}'${withMessage}, but it was not caught. ${tail}`
}

function isActivity(el: FlowElement): boolean {
  return !['startEvent', 'endEvent', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent',
    'exclusiveGateway', 'parallelGateway', 'inclusiveGateway', 'eventBasedGateway'].includes(el.type)
}

function pickCatch(candidates: FlowElement[], kind: 'error' | 'escalation', code: string): FlowElement | undefined {
  let catchAll: FlowElement | undefined
  for (const c of candidates) {
    const ev = c.event
    if (!ev || ev.kind !== kind) continue
    const catchCode = ev.kind === 'error' ? ev.errorCode : ev.kind === 'escalation' ? ev.escalationCode : undefined
    if (catchCode === undefined || catchCode === '') catchAll ??= c
    else if (catchCode === code) return c
  }
  return catchAll
}
