import { EngineError, type ModifyActivateInstruction, type ModifyInstanceInput } from '../api'
import type { FlowElement, ProcessModel } from '../model/types'
import type { Key } from '../state/records'
import type { ProcessingContext } from './processing'
import type { ElementInstance, InstanceRuntime } from './runtime-state'
import { restType as bpmnElementType } from './behaviors/flow'

/*
 * Process instance modification, as Zeebe 8.8 does it (docs: components/concepts/
 * process-instance-modification; the engine's ProcessInstanceModificationModifyProcessor and
 * ElementActivationBehavior, read for their rules and rejection wording):
 * - every instruction is checked first, and a rejected command changes nothing;
 * - activations find (or create, without running their start event) the flow scopes of the
 *   element, choosing among several instances with the ancestor key; variable instructions
 *   set local variables on those scopes and on the element before its input mappings;
 * - terminations end an element instance and its children, then every flow scope left with no
 *   active child and needed by no activation (up to the process instance, which then ends
 *   TERMINATED); the elements are activated after the terminations.
 */

const UNSUPPORTED_TYPES = new Set(['START_EVENT', 'BOUNDARY_EVENT'])
const SUPPORTED_TYPES = [
  'PROCESS', 'SUB_PROCESS', 'EVENT_SUB_PROCESS', 'INTERMEDIATE_CATCH_EVENT', 'INTERMEDIATE_THROW_EVENT', 'END_EVENT',
  'SERVICE_TASK', 'RECEIVE_TASK', 'USER_TASK', 'MANUAL_TASK', 'TASK', 'EXCLUSIVE_GATEWAY', 'PARALLEL_GATEWAY',
  'EVENT_BASED_GATEWAY', 'MULTI_INSTANCE_BODY', 'CALL_ACTIVITY', 'BUSINESS_RULE_TASK', 'SCRIPT_TASK', 'SEND_TASK',
  'INCLUSIVE_GATEWAY',
]

/** One level of the flow scopes above an element: a subprocess, or a multi-instance body and its inner instance. */
interface ScopeLevel {
  elementId: string
  kind: 'plain' | 'body' | 'inner'
}

/** A scope instance: a real one, or one a dry run would create. */
type ScopeRef = { key: Key; virtual: boolean }

/** What the resolution of flow scopes reads: real instances plus those created so far in this command. */
interface ScopeWorld {
  children(scope: ScopeRef, level: ScopeLevel): ScopeRef[]
  isAncestor(ancestor: Key, of: ScopeRef): boolean
  create(scope: ScopeRef, level: ScopeLevel): ScopeRef
}

function reject(message: string): never {
  throw new EngineError('INVALID_ARGUMENT', message, 'MODIFY')
}

export class InstanceModification {
  constructor(private readonly ctx: ProcessingContext) {}

  /** The flow scopes of an element, outermost first, without the process itself. */
  static flowScopes(model: ProcessModel, elementId: string): string[] {
    return flowScopesOf(model, elementId)
  }

  /** Check every instruction; throws the rejection Zeebe gives. Nothing is changed. */
  validate(input: ModifyInstanceInput): void {
    const { inst, model } = this.target(input.processInstanceKey)
    const pid = model.id
    const activations = input.activateInstructions ?? []
    const terminations = input.terminateInstructions ?? []
    const unknown = [...new Set(activations.map((a) => a.elementId).filter((id) => !model.elements.has(id)))]
    if (unknown.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions with an element that could not be found: '${unknown.join("', '")}'`)
    const afterGateway = [...new Set(activations.map((a) => a.elementId))].filter((id) => isAfterEventBasedGateway(model, id))
    if (afterGateway.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions for elements that are unsupported: '${afterGateway.join("', '")}'. The activation of events belonging to an event-based gateway is not supported.`)
    const unsupported = [...new Set(activations.map((a) => a.elementId))].map((id) => model.elements.get(id) as FlowElement).filter((el) => UNSUPPORTED_TYPES.has(bpmnElementType(el)))
    if (unsupported.length > 0) {
      const types = [...new Set(unsupported.map(bpmnElementType))].join("', '")
      reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions for elements that are unsupported: '${unsupported.map((e) => e.id).join("', '")}'. The activation of elements with type '${types}' is not supported. Supported element types are: [${SUPPORTED_TYPES.join(', ')}].`)
    }
    const missing = [...new Set(terminations.map((t) => t.elementInstanceKey))].filter((k) => !this.isActive(k))
    if (missing.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more terminate instructions with an element instance that could not be found: '${missing.join("', '")}'`)
    const scopeIds = new Set<string>()
    for (const a of activations) for (const v of a.variableInstructions ?? []) if (v.scopeId && v.scopeId !== pid && !model.elements.has(v.scopeId)) scopeIds.add(v.scopeId)
    if (scopeIds.size > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more variable instructions with a scope element id that could not be found: '${[...scopeIds].join("', '")}'`)
    for (const a of activations) {
      for (const v of a.variableInstructions ?? []) {
        if (!v.scopeId || v.scopeId === a.elementId || v.scopeId === pid) continue
        if (!flowScopesOf(model, a.elementId).includes(v.scopeId)) {
          reject(`Expected to modify instance of process '${pid}' but it contains one or more variable instructions with a scope element that doesn't belong to the activating element's flow scope. These variables should be set before or after the modification.`)
        }
      }
    }
    this.validateAncestors(inst, model, activations)
    const conflicts: string[] = []
    for (const key of new Set(terminations.map((t) => t.elementInstanceKey))) {
      const ei = this.ctx.state.elements.get(key) as ElementInstance
      for (const a of activations) {
        const conflict = a.ancestorElementInstanceKey ? a.ancestorElementInstanceKey === key : flowScopesOf(model, a.elementId).includes(ei.elementId) && ei.processInstanceKey === inst.key
        if (conflict) conflicts.push(`element '${a.elementId}' requires flow scope instance '${key}' which is being terminated`)
      }
    }
    if (conflicts.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions for elements whose required flow scope instance is also being terminated: ${conflicts.join(', ')}. Please provide a valid ancestor scope key for the activation or avoid terminating the required flow scope.`)
    // A dry run of the activations (which flow scopes they reuse or create) and of the terminations.
    const required = this.dryRunActivations(inst, model, activations)
    this.dryRunTerminations(terminations.map((t) => t.elementInstanceKey), required)
  }

  /** Apply a validated modification. */
  apply(input: ModifyInstanceInput): void {
    const ctx = this.ctx
    const { inst, model } = this.target(input.processInstanceKey)
    const root = ctx.state.elements.get(inst.key) as ElementInstance
    const pending: { scope: ElementInstance; el: FlowElement; instruction: ModifyActivateInstruction }[] = []
    const required = new Set<Key>()
    const world = this.realWorld(model, (scope, el, instruction) => this.setVariables(scope, el.id, instruction, model.id))
    for (const a of input.activateInstructions ?? []) {
      const el = model.elements.get(a.elementId) as FlowElement
      this.setVariables(root, model.id, a, model.id)
      const scopes = resolveScopes(model, a, { key: root.key, virtual: false }, { ...world, create: (s, l) => world.createFor(s, l, a) })
      required.add(root.key)
      for (const s of scopes) {
        required.add(s.key)
        const scopeEi = ctx.state.elements.get(s.key) as ElementInstance
        this.setVariables(scopeEi, scopeEi.elementId, a, model.id)
      }
      const scope = ctx.state.elements.get((scopes.at(-1) ?? { key: root.key }).key) as ElementInstance
      pending.push({ scope, el, instruction: a })
    }
    for (const t of input.terminateInstructions ?? []) this.terminateWithScopes(t.elementInstanceKey, required)
    for (const p of pending) {
      if (p.scope.lifecycle !== 'ACTIVATED') continue
      // The element itself is activated directly: a joining gateway does not wait for its other flows.
      if (p.el.multiInstance) {
        const body = ctx.flow.newElementInstance(p.scope, p.el, 'MULTI_INSTANCE_BODY')
        body.isMiBody = true
        this.setVariables(body, p.el.id, p.instruction, model.id)
        ctx.multiInstance.onActivate(ctx, body, p.el)
        continue
      }
      const ei = ctx.flow.newElementInstance(p.scope, p.el)
      this.setVariables(ei, p.el.id, p.instruction, model.id)
      ctx.flow.runActivation(ei)
    }
  }

  private target(processInstanceKey: Key): { inst: InstanceRuntime; model: ProcessModel } {
    const inst = this.ctx.state.instances.get(processInstanceKey)
    // An instance whose cancellation waits for canceling listeners is on its way out.
    if (!inst || inst.state !== 'ACTIVE' || this.ctx.state.elements.get(inst.key)?.lifecycle === 'TERMINATING') {
      throw new EngineError('NOT_FOUND', `Expected to modify process instance but no process instance found with key '${processInstanceKey}'`, 'MODIFY')
    }
    return { inst, model: this.ctx.model(this.ctx.state.elements.get(inst.key) as ElementInstance) }
  }

  private isActive(key: Key): boolean {
    const ei = this.ctx.state.elements.get(key)
    return ei !== undefined && (ei.lifecycle === 'ACTIVATED' || ei.lifecycle === 'ACTIVATING' || ei.lifecycle === 'COMPLETING')
  }

  private validateAncestors(inst: InstanceRuntime, model: ProcessModel, activations: ModifyActivateInstruction[]): void {
    const pid = model.id
    const keys = [...new Set(activations.map((a) => a.ancestorElementInstanceKey).filter((k): k is Key => !!k && k !== '-1'))]
    const inactive = keys.filter((k) => !this.isActive(k))
    if (inactive.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions with an ancestor scope key that does not exist, or is not in an active state: '${inactive.join("', '")}'`)
    const foreign = keys.filter((k) => this.ctx.state.elements.get(k)?.processInstanceKey !== inst.key)
    if (foreign.length > 0) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions with an ancestor scope key that does not belong to the modified process instance: '${foreign.join("', '")}'`)
    let lines = ''
    for (const a of activations) {
      if (!a.ancestorElementInstanceKey || a.ancestorElementInstanceKey === '-1') continue
      const ancestorId = (this.ctx.state.elements.get(a.ancestorElementInstanceKey) as ElementInstance).elementId
      if (ancestorId === pid || flowScopesOf(model, a.elementId).includes(ancestorId)) continue
      lines += `\n- instance '${a.ancestorElementInstanceKey}' of element '${ancestorId}' is not an ancestor of element '${a.elementId}'`
    }
    if (lines) reject(`Expected to modify instance of process '${pid}' but it contains one or more activate instructions with an ancestor scope key that is not an ancestor of the element to activate:${lines}`)
  }

  /** The flow scope instances the activations would use or create; throws Zeebe's rejections. */
  private dryRunActivations(inst: InstanceRuntime, model: ProcessModel, activations: ModifyActivateInstruction[]): Set<Key> {
    const real = this.realWorld(model, () => undefined)
    const created = new Map<string, { parent: ScopeRef; level: ScopeLevel }>()
    let next = 0
    const world: ScopeWorld = {
      children: (scope, level) => {
        const out = scope.virtual ? [] : real.children(scope, level)
        for (const [key, c] of created) if (c.parent.key === scope.key && c.level.elementId === level.elementId && c.level.kind === level.kind) out.push({ key, virtual: true })
        return out
      },
      isAncestor: (ancestor, of) => {
        let cur: ScopeRef | undefined = of
        while (cur?.virtual) {
          const c = created.get(cur.key) as { parent: ScopeRef }
          if (c.parent.key === ancestor) return true
          cur = c.parent
        }
        return cur ? real.isAncestor(ancestor, cur) : false
      },
      create: (parent, level) => {
        const key = `virtual-${next++}`
        created.set(key, { parent, level })
        return { key, virtual: true }
      },
    }
    const required = new Set<Key>()
    for (const a of activations) {
      required.add(inst.key)
      for (const s of resolveScopes(model, a, { key: inst.key, virtual: false }, world)) if (!s.virtual) required.add(s.key)
    }
    return required
  }

  /** Which instances the terminations would end: a child process instance may not be emptied. */
  private dryRunTerminations(keys: Key[], required: Set<Key>): void {
    const state = this.ctx.state
    const ended = new Set<Key>()
    const isEnded = (ei: ElementInstance): boolean => {
      for (let cur: ElementInstance | undefined = ei; cur; cur = cur.scopeKey ? state.elements.get(cur.scopeKey) : undefined) if (ended.has(cur.key)) return true
      return false
    }
    for (const key of keys) {
      const ei = state.elements.get(key) as ElementInstance
      if (isEnded(ei)) continue
      ended.add(key)
      let scope = ei.scopeKey ? state.elements.get(ei.scopeKey) : undefined
      while (scope && this.emptied(scope, ended) && !required.has(scope.key)) {
        this.refuseEmptyingChild(scope)
        ended.add(scope.key)
        scope = scope.scopeKey ? state.elements.get(scope.scopeKey) : undefined
      }
    }
  }

  private emptied(scope: ElementInstance, ended: Set<Key>): boolean {
    if (scope.tokensInTransit) return false
    if (scope.joins && Object.values(scope.joins).some((t) => Object.keys(t).length > 0)) return false
    for (const k of this.ctx.state.activeChildren.keys(scope.key)) if (!ended.has(k)) return false
    return true
  }

  private refuseEmptyingChild(scope: ElementInstance): void {
    if (scope.type !== 'PROCESS') return
    const inst = this.ctx.state.instances.get(scope.key)
    if (inst?.parentProcessInstanceKey) {
      reject(`Expected to modify instance of process '${inst.bpmnProcessId}' but the given instructions would terminate the instance. The instance was created by a call activity in the parent process. To terminate this instance please modify the parent process instead.`)
    }
  }

  /** Terminate one element instance, then the flow scopes it leaves empty. */
  private terminateWithScopes(key: Key, required: Set<Key>): void {
    const ctx = this.ctx
    const ei = ctx.state.elements.get(key)
    if (!ei || !this.isActive(key)) return
    let scope = ei.scopeKey ? ctx.state.elements.get(ei.scopeKey) : undefined
    this.terminateOne(ei)
    while (scope && scope.lifecycle === 'ACTIVATED' && this.emptied(scope, new Set()) && !required.has(scope.key)) {
      const next = scope.scopeKey ? ctx.state.elements.get(scope.scopeKey) : undefined
      this.terminateOne(scope)
      scope = next
    }
  }

  private terminateOne(ei: ElementInstance): void {
    const ctx = this.ctx
    if (ei.type === 'PROCESS') {
      const inst = ctx.state.instances.get(ei.key) as InstanceRuntime
      return ctx.instances.cancel(inst, false)
    }
    const scope = ctx.scopeOf(ei)
    // As Zeebe's modification, a terminate instruction runs no canceling task listener.
    ctx.flow.terminate(ei, undefined, false)
    if (scope?.isMiBody && scope.mi && !ei.isMiBody) {
      scope.mi.active--
      scope.mi.terminated++
    }
  }

  private setVariables(scope: ElementInstance, elementId: string, instruction: ModifyActivateInstruction, processId: string): void {
    for (const v of instruction.variableInstructions ?? []) {
      const target = v.scopeId || processId
      if (target === elementId) this.ctx.vars.setLocalDocument(scope.key, v.variables)
    }
  }

  /** The real instances, and how a flow scope is created for an activation (activated, subscribed, not started). */
  private realWorld(model: ProcessModel, onCreated: (scope: ElementInstance, el: FlowElement, instruction: ModifyActivateInstruction) => void): Omit<ScopeWorld, 'create'> & { createFor(parent: ScopeRef, level: ScopeLevel, instruction: ModifyActivateInstruction): ScopeRef } {
    const ctx = this.ctx
    return {
      children: (scope, level) => {
        const out: ScopeRef[] = []
        for (const k of ctx.state.activeChildren.keys(scope.key)) {
          const child = ctx.state.elements.get(k) as ElementInstance
          if (child.elementId !== level.elementId || child.lifecycle !== 'ACTIVATED') continue
          if ((level.kind === 'body') !== Boolean(child.isMiBody)) continue
          out.push({ key: k, virtual: false })
        }
        return out
      },
      isAncestor: (ancestor, of) => {
        for (let cur = ctx.state.elements.get(of.key); cur?.scopeKey; cur = ctx.state.elements.get(cur.scopeKey)) if (cur.scopeKey === ancestor) return true
        return false
      },
      createFor: (parent, level, instruction) => {
        const scopeEi = ctx.state.elements.get(parent.key) as ElementInstance
        const el = model.elements.get(level.elementId) as FlowElement
        const ei = ctx.flow.newElementInstance(scopeEi, el)
        ei.lifecycle = 'ACTIVATED'
        onCreated(ei, el, instruction)
        ctx.subscriptions.openBoundarySubscriptions(ei, el)
        ctx.subscriptions.openScopeEventSubscriptions(ei, el.eventSubProcesses ?? [], model)
        return { key: ei.key, virtual: false }
      },
    }
  }
}

/** The flow scopes of an element, outermost first, without the process itself. */
function flowScopesOf(model: ProcessModel, elementId: string): string[] {
  const out: string[] = []
  let el = model.elements.get(elementId)
  while (el && el.scopeId !== model.id) {
    out.unshift(el.scopeId)
    el = model.elements.get(el.scopeId)
  }
  return out
}

function scopeLevels(model: ProcessModel, elementId: string): ScopeLevel[] {
  const levels: ScopeLevel[] = []
  for (const id of flowScopesOf(model, elementId)) {
    if (model.elements.get(id)?.multiInstance) levels.push({ elementId: id, kind: 'body' }, { elementId: id, kind: 'inner' })
    else levels.push({ elementId: id, kind: 'plain' })
  }
  return levels
}

/** Reuse or create each flow scope of the element, as Zeebe's ElementActivationBehavior chooses. */
function resolveScopes(model: ProcessModel, a: ModifyActivateInstruction, root: ScopeRef, world: ScopeWorld): ScopeRef[] {
  const ancestor = a.ancestorElementInstanceKey && a.ancestorElementInstanceKey !== '-1' ? a.ancestorElementInstanceKey : undefined
  const out: ScopeRef[] = []
  let current = root
  for (const level of scopeLevels(model, a.elementId)) {
    const found = world.children(current, level)
    let chosen: ScopeRef | undefined
    if (found.length === 1) {
      chosen = ancestor && world.isAncestor(ancestor, found[0]) ? undefined : found[0]
    } else if (found.length > 1) {
      if (!ancestor) multipleScopes(model, level)
      chosen = found.find((f) => f.key === ancestor)
      if (!chosen && !found.some((f) => world.isAncestor(ancestor, f))) {
        chosen = found.find((f) => !f.virtual && world.isAncestor(f.key, { key: ancestor, virtual: false }))
        if (!chosen) multipleScopes(model, level)
      }
    }
    if (!chosen) {
      if (level.kind !== 'plain') {
        reject(`Expected to modify instance of process '${model.id}' but it contains one or more activate instructions that would result in the activation of multi-instance element '${level.elementId}', which is currently unsupported.`)
      }
      chosen = world.create(current, level)
    }
    out.push(chosen)
    current = chosen
  }
  return out
}

function multipleScopes(model: ProcessModel, level: ScopeLevel): never {
  reject(`Expected to modify instance of process '${model.id}' but it contains one or more activate instructions for an element that has a flow scope with more than one active instance: '${level.elementId}'. Can't decide in which instance of the flow scope the element should be activated. Please specify an ancestor element instance key for this activate instruction.`)
}

function isAfterEventBasedGateway(model: ProcessModel, elementId: string): boolean {
  const el = model.elements.get(elementId)
  if (!el || el.type !== 'intermediateCatchEvent') return false
  return el.incoming.some((f) => model.elements.get(model.flows.get(f)?.sourceRef ?? '')?.type === 'eventBasedGateway')
}
