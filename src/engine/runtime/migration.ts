import { EngineError, type MigrateInstanceInput } from '../api'
import type { FlowElement, ProcessModel } from '../model/types'
import type { IncidentRecord, JobRecord, Key, UserTaskRecord } from '../state/records'
import { restType } from './behaviors/flow'
import type { ProcessingContext } from './processing'
import type { DeployedProcess } from './repository'
import type { ElementInstance, InstanceRuntime } from './runtime-state'

/*
 * Process instance migration, as Zeebe 8.8 does it (docs: components/concepts/
 * process-instance-migration, "Limitations" and "Dealing with catch events"; rejection wording
 * from the engine's ProcessInstanceMigrationPreconditions). Every active element needs a mapping
 * to an element of the same type in the same (mapped) flow scope; jobs, user tasks, incidents and
 * variables keep their values and move with their element; a mapped catch event keeps its
 * subscription (a timer keeps its due date), an unmapped one is closed, and a catch event of the
 * target that no mapping points to is opened. The whole plan is checked first: a rejected
 * migration changes nothing.
 */

const CATCH_KINDS = new Set(['timer', 'message', 'signal'])

function invalidState(message: string): never {
  throw new EngineError('INVALID_STATE', message, 'MIGRATE')
}

function invalidArgument(message: string): never {
  throw new EngineError('INVALID_ARGUMENT', message, 'MIGRATE')
}

/** A subscription an element instance owns, by the catch event it waits for. */
interface OwnedSubscription {
  kind: 'timer' | 'message' | 'signal'
  key: Key
  catchId: string
}

interface Plan {
  inst: InstanceRuntime
  target: DeployedProcess
  mapping: Map<string, string>
  /** active element instances, breadth first, the process instance first */
  elements: ElementInstance[]
}

export class InstanceMigration {
  constructor(private readonly ctx: ProcessingContext) {}

  /** Check the whole plan against the instance; throws Zeebe's rejection. Nothing is changed. */
  validate(input: MigrateInstanceInput): void {
    const { inst, target, mapping, elements } = this.plan(input)
    const source = this.ctx.model(elements[0])
    const tm = target.model
    const key = inst.key
    for (const ei of elements) {
      const sourceEl = ei.element
      if (!sourceEl) {
        this.checkCatchEvents(ei, source, tm, tm.id, mapping)
        continue
      }
      const targetId = mapping.get(sourceEl.id)
      if (targetId === undefined) invalidState(`Expected to migrate process instance '${key}' but no mapping instruction defined for active element with id '${sourceEl.id}'. Elements cannot be migrated without a mapping.`)
      const targetEl = tm.elements.get(targetId)
      const sourceType = ei.type
      const targetType = targetEl ? (ei.isMiBody ? (targetEl.multiInstance ? 'MULTI_INSTANCE_BODY' : restType(targetEl)) : restType(targetEl)) : 'SEQUENCE_FLOW'
      if (!targetEl || sourceType !== targetType) {
        invalidState(`Expected to migrate process instance '${key}' but active element with id '${sourceEl.id}' and type '${sourceType}' is mapped to an element with id '${targetId}' and different type '${targetType}'. Elements must be mapped to elements of the same type.`)
      }
      if (ei.isMiBody && sourceEl.multiInstance?.isSequential !== targetEl.multiInstance?.isSequential) {
        invalidState(`Expected to migrate process instance '${key}' but active element with id '${sourceEl.id}' is a ${loopKind(sourceEl)} multi-instance body and is mapped to an element with id '${targetId}' that is a ${loopKind(targetEl)} multi-instance body. A multi-instance body cannot change between parallel and sequential.`)
      }
      if (sourceEl.type === 'userTask' && !sourceEl.isCamundaUserTask && targetEl.isCamundaUserTask && ei.incidentKey !== undefined) {
        invalidState(`Expected to migrate process instance '${key}' but active job worker user task with id '${sourceEl.id}' has an incident. Incidents on a job worker user task must be resolved before it is migrated to a Camunda user task.`)
      }
      const formId = targetEl.userTask?.formId
      if (sourceEl.type === 'userTask' && !sourceEl.isCamundaUserTask && targetEl.isCamundaUserTask && formId && !this.ctx.repo.latestFormOf(formId, ei.tenantId)) {
        invalidState(`Expected to migrate process instance '${key}' but the Camunda user task with id '${targetId}' links the form '${formId}', which is not deployed.`)
      }
      // A job worker user task may become a Camunda user task (Zeebe 8.8.x), not the reverse.
      if (sourceEl.type === 'userTask' && sourceEl.isCamundaUserTask && !targetEl.isCamundaUserTask) {
        invalidState(`Expected to migrate process instance '${key}' but active user task with id '${sourceEl.id}' and implementation '${implementation(sourceEl)}' is mapped to an user task with id '${targetId}' and different implementation '${implementation(targetEl)}'. Elements must be mapped to elements of the same implementation.`)
      }
      const scope = this.ctx.scopeOf(ei) as ElementInstance
      if (!scope.isMiBody) {
        const expected = scope.type === 'PROCESS' ? tm.id : mapping.get(scope.elementId)
        if (targetEl.scopeId !== expected) {
          invalidState(`Expected to migrate process instance '${key}' but the flow scope of active element with id '${sourceEl.id}' is changed. The flow scope of the active element is expected to be '${expected ?? scope.elementId}' but was '${targetEl.scopeId}'. The flow scope of an element cannot be changed during migration yet.`)
        }
      }
      this.checkCatchEvents(ei, source, tm, targetId, mapping)
    }
    for (const ei of elements) this.checkJoins(ei, source, tm, mapping, key)
  }

  /** Apply a validated migration. */
  apply(input: MigrateInstanceInput): void {
    const ctx = this.ctx
    const { inst, target, mapping, elements } = this.plan(input)
    const tm = target.model
    const rec = target.record
    const mapId = (ei: ElementInstance): string => (ei.type === 'PROCESS' ? tm.id : (mapping.get(ei.elementId) as string))
    inst.processDefinitionKey = rec.key
    inst.bpmnProcessId = rec.bpmnProcessId
    inst.version = rec.version
    const owned = new Map(elements.map((ei) => [ei.key, this.subscriptionsOf(ei)]))
    const becomingCamundaTasks = elements.filter((ei) => ei.element?.type === 'userTask' && !ei.element.isCamundaUserTask
      && tm.elements.get(mapping.get(ei.elementId) ?? '')?.isCamundaUserTask)
    for (const ei of elements) {
      const targetId = mapId(ei)
      ei.elementId = targetId
      ei.element = ei.type === 'PROCESS' ? undefined : tm.elements.get(targetId)
      ei.elementName = ei.type === 'PROCESS' ? tm.name : ei.element?.name
      ei.processDefinitionKey = rec.key
      ei.bpmnProcessId = rec.bpmnProcessId
      ei.definitionKey = rec.key
      if (ei.joins) ei.joins = renameJoins(ei.joins, mapping)
    }
    /** A record of the instance now belongs to the target: its element mapped, its definition the target's. */
    const moveTo = (record: { elementId?: string; processDefinitionKey: Key; bpmnProcessId: string }) => {
      if (record.elementId !== undefined) record.elementId = mapping.get(record.elementId) ?? record.elementId
      record.processDefinitionKey = rec.key
      record.bpmnProcessId = rec.bpmnProcessId
    }
    const { jobs, userTasks, incidents } = ctx.state
    for (const key of [...jobs.keysOf(inst.key)]) {
      const job = jobs.get(key) as JobRecord
      moveTo(job)
      job.processDefinitionVersion = rec.version
    }
    for (const key of [...userTasks.keysOf(inst.key)]) {
      const task = userTasks.get(key) as UserTaskRecord
      if (task.state === 'COMPLETED' || task.state === 'CANCELED') continue
      moveTo(task)
      task.processDefinitionVersion = rec.version
      task.processName = tm.name
    }
    for (const key of [...incidents.keysOf(inst.key)]) {
      const incident = incidents.get(key) as IncidentRecord
      if (incident.state === 'ACTIVE') moveTo(incident)
    }
    for (const scope of [...ctx.state.elements.keysOf(inst.key)]) for (const v of ctx.vars.ofScope(scope)) moveTo(v)
    for (const ei of elements) this.migrateSubscriptions(ei, owned.get(ei.key) ?? [], tm, mapping)
    for (const ei of becomingCamundaTasks) ctx.userTasks.adoptJobWorkerTask(ei, ei.element as FlowElement)
  }

  private plan(input: MigrateInstanceInput): Plan {
    const ctx = this.ctx
    const inst = ctx.state.instances.get(input.processInstanceKey)
    if (!inst || inst.state !== 'ACTIVE') {
      throw new EngineError('NOT_FOUND', `Expected to migrate process instance but no process instance found with key '${input.processInstanceKey}'`, 'MIGRATE')
    }
    const target = ctx.repo.processes.get(input.targetProcessDefinitionKey)
    if (!target) {
      throw new EngineError('NOT_FOUND', `Expected to migrate process instance to process definition but no process definition found with key '${input.targetProcessDefinitionKey}'`, 'MIGRATE')
    }
    const counts = new Map<string, number>()
    for (const m of input.mappingInstructions) counts.set(m.sourceElementId, (counts.get(m.sourceElementId) ?? 0) + 1)
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
    if (duplicates.length > 0) invalidArgument(`Expected to migrate process instance '${inst.key}' but the mapping instructions contain duplicate source element ids '[${duplicates.join(', ')}]'.`)
    const root = ctx.state.elements.get(inst.key) as ElementInstance
    const source = ctx.model(root)
    for (const m of input.mappingInstructions) {
      if (!hasElement(source, m.sourceElementId)) invalidArgument(`Expected to migrate process instance '${inst.key}' but mapping instructions contain a non-existing source element id '${m.sourceElementId}'. Elements provided in mapping instructions must exist in the source process definition.`)
      if (!hasElement(target.model, m.targetElementId)) invalidArgument(`Expected to migrate process instance '${inst.key}' but mapping instructions contain a non-existing target element id '${m.targetElementId}'. Elements provided in mapping instructions must exist in the target process definition.`)
    }
    const mapping = new Map(input.mappingInstructions.map((m) => [m.sourceElementId, m.targetElementId]))
    const elements: ElementInstance[] = []
    const queue = [root]
    while (queue.length > 0) {
      const ei = queue.shift() as ElementInstance
      elements.push(ei)
      for (const k of ctx.state.activeChildren.keys(ei.key)) {
        const child = ctx.state.elements.get(k)
        if (child && child.lifecycle !== 'COMPLETED' && child.lifecycle !== 'TERMINATED') queue.push(child)
      }
    }
    return { inst, target, mapping, elements }
  }

  private subscriptionsOf(ei: ElementInstance): OwnedSubscription[] {
    const state = this.ctx.state
    const out: OwnedSubscription[] = []
    for (const key of ei.timerKeys ?? []) { const t = state.timers.get(key); if (t) out.push({ kind: 'timer', key, catchId: t.elementId }) }
    for (const key of ei.messageSubKeys ?? []) { const s = state.messageSubs.get(key); if (s) out.push({ kind: 'message', key, catchId: s.elementId }) }
    for (const key of ei.signalSubKeys ?? []) { const s = state.signalSubs.get(key); if (s) out.push({ kind: 'signal', key, catchId: s.elementId }) }
    return out
  }

  /** Mapped catch events stay attached to the same instance and kind; the new ones can be opened. */
  private checkCatchEvents(ei: ElementInstance, source: ProcessModel, tm: ProcessModel, targetOwnerId: string, mapping: Map<string, string>): void {
    const key = ei.processInstanceKey
    const targetCatch = catchEventsOf(tm, targetOwnerId, ei)
    const mappedTargets = new Set<string>()
    for (const sub of this.subscriptionsOf(ei)) {
      const to = mapping.get(sub.catchId)
      if (to === undefined) continue
      if (!targetCatch.includes(to)) {
        invalidState(`Expected to migrate process instance '${key}' but active element with id '${ei.elementId}' is mapped to an element with id '${targetOwnerId}' and has a catch event with id '${sub.catchId}' that is mapped to an element with id '${to}'. These mappings detach the catch event from the element in the target process. Catch events must stay attached to the same element instance.`)
      }
      if (mappedTargets.has(to)) invalidState(`Expected to migrate process instance '${key}' but the catch events of active element with id '${ei.elementId}' are mapped more than once to the target catch event with id '${to}'. Each catch event can only be the target of one mapping instruction.`)
      mappedTargets.add(to)
      const from = source.elements.get(sub.catchId)?.event?.kind
      const kind = tm.elements.get(to)?.event?.kind
      if (from !== kind) invalidState(`Expected to migrate process instance '${key}' but the ${from} catch event with id '${sub.catchId}' is mapped to the ${kind ?? 'non-catch'} event with id '${to}'. A catch event cannot be mapped to a catch event of another type.`)
    }
    for (const id of targetCatch) {
      if (mappedTargets.has(id)) continue
      const el = tm.elements.get(id) as FlowElement
      try {
        this.evaluateSubscription(ei, el)
      } catch (e) {
        invalidState(`Expected to migrate process instance '${key}' but the catch event with id '${id}' of the target process could not be subscribed to: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }

  /** Evaluates what opening a subscription evaluates, without opening it. */
  private evaluateSubscription(owner: ElementInstance, el: FlowElement): void {
    const ev = el.event
    const vars = this.ctx.visible(owner)
    if (ev?.kind === 'timer') this.ctx.timers.schedule(ev.timerType, ev.expression, vars)
    else if (ev?.kind === 'message') {
      this.ctx.expr.string(ev.messageName, vars)
      if (ev.correlationKey !== undefined) this.ctx.expr.correlationKey(ev.correlationKey, vars)
    } else if (ev?.kind === 'signal') this.ctx.expr.string(ev.signalName, vars)
  }

  private checkJoins(ei: ElementInstance, source: ProcessModel, tm: ProcessModel, mapping: Map<string, string>, key: Key): void {
    for (const [gatewayId, tokens] of Object.entries(ei.joins ?? {})) {
      if (Object.keys(tokens).length === 0) continue
      const to = mapping.get(gatewayId)
      if (to === undefined) invalidState(`Expected to migrate process instance '${key}' but no mapping instruction defined for active element with id '${gatewayId}'. Elements cannot be migrated without a mapping.`)
      const from = source.elements.get(gatewayId) as FlowElement
      const targetGw = tm.elements.get(to)
      if (!targetGw || targetGw.type !== from.type) {
        invalidState(`Expected to migrate process instance '${key}' but active element with id '${gatewayId}' and type '${restType(from)}' is mapped to an element with id '${to}' and different type '${targetGw ? restType(targetGw) : 'SEQUENCE_FLOW'}'. Elements must be mapped to elements of the same type.`)
      }
      if (targetGw.incoming.length < from.incoming.length) {
        invalidState(`Expected to migrate process instance '${key}' but active gateway with id '${gatewayId}' has ${from.incoming.length} incoming sequence flows and is mapped to gateway '${to}' with only ${targetGw.incoming.length}. The target gateway must have at least as many incoming sequence flows.`)
      }
      for (const flowId of Object.keys(tokens)) {
        const toFlow = mapping.get(flowId)
        if (!toFlow || !targetGw.incoming.includes(toFlow)) {
          invalidState(`Expected to migrate process instance '${key}' but the taken sequence flow with id '${flowId}' into gateway '${gatewayId}' is not mapped to an incoming sequence flow of the target gateway '${to}'. Taken sequence flows of a joining gateway must be mapped.`)
        }
      }
    }
  }

  private migrateSubscriptions(ei: ElementInstance, subs: OwnedSubscription[], tm: ProcessModel, mapping: Map<string, string>): void {
    const ctx = this.ctx
    const kept = new Set<string>()
    for (const sub of subs) {
      const to = mapping.get(sub.catchId)
      if (to === undefined) {
        this.close(ei, sub)
        continue
      }
      kept.add(to)
      if (sub.kind === 'timer') {
        const t = ctx.state.timers.get(sub.key)
        if (t) { t.elementId = to; t.processDefinitionKey = ei.processDefinitionKey }
      } else if (sub.kind === 'message') {
        const s = ctx.state.messageSubs.get(sub.key)
        const catchEl = tm.elements.get(to) as FlowElement
        if (s) {
          s.elementId = to
          s.processDefinitionKey = ei.processDefinitionKey
          s.bpmnProcessId = ei.bpmnProcessId
          s.interrupting = catchEl.type === 'boundaryEvent' ? catchEl.cancelActivity !== false : catchEl.isInterrupting !== false
        }
      } else {
        const s = ctx.state.signalSubs.get(sub.key)
        if (s) { s.elementId = to; s.processDefinitionKey = ei.processDefinitionKey; s.bpmnProcessId = ei.bpmnProcessId }
      }
    }
    for (const id of catchEventsOf(tm, ei.elementId, ei)) {
      if (!kept.has(id)) ctx.subscriptions.openEventSubscription(ei, tm.elements.get(id) as FlowElement)
    }
  }

  private close(ei: ElementInstance, sub: OwnedSubscription): void {
    const ctx = this.ctx
    if (sub.kind === 'timer') {
      ctx.state.timers.delete(sub.key)
      ei.timerKeys = ei.timerKeys?.filter((k) => k !== sub.key)
    } else if (sub.kind === 'message') {
      ctx.subscriptions.removeMessageSub(sub.key)
      ei.messageSubKeys = ei.messageSubKeys?.filter((k) => k !== sub.key)
    } else {
      ctx.subscriptions.removeSignalSub(sub.key)
      ei.signalSubKeys = ei.signalSubKeys?.filter((k) => k !== sub.key)
    }
  }
}

function hasElement(model: ProcessModel, id: string): boolean {
  return id === model.id || model.elements.has(id) || model.flows.has(id)
}

function loopKind(el: FlowElement): string {
  return el.multiInstance?.isSequential ? 'sequential' : 'parallel'
}

function implementation(el: FlowElement): string {
  return el.isCamundaUserTask ? 'zeebe user task' : 'job worker'
}

/**
 * The catch events (timer, message, signal) an instance of `ownerId` subscribes to in `model`:
 * a process's or subprocess's event subprocess starts, an activity's boundary events (on its
 * multi-instance body when it has one), a catch event or receive task itself, and the events
 * after an event-based gateway.
 */
function catchEventsOf(model: ProcessModel, ownerId: string, ei: ElementInstance): string[] {
  const ids: string[] = []
  const startsOf = (esps: string[]): void => {
    for (const esp of esps) {
      const start = model.elements.get(model.elements.get(esp)?.startEvents?.[0] ?? '')
      if (start) ids.push(start.id)
    }
  }
  if (ei.type === 'PROCESS') startsOf(model.eventSubProcesses)
  else {
    const el = model.elements.get(ownerId)
    if (!el) return []
    if (!el.multiInstance || ei.isMiBody) ids.push(...el.boundaryEvents)
    if (!ei.isMiBody) {
      if (el.type === 'subProcess') startsOf(el.eventSubProcesses ?? [])
      if (el.type === 'intermediateCatchEvent' || el.type === 'receiveTask') ids.push(el.id)
      if (el.type === 'eventBasedGateway') for (const f of el.outgoing) { const t = model.flows.get(f)?.targetRef; if (t) ids.push(t) }
    }
  }
  return ids.filter((id) => CATCH_KINDS.has(model.elements.get(id)?.event?.kind ?? ''))
}

function renameJoins(joins: Record<string, Record<string, number>>, mapping: Map<string, string>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const [gw, tokens] of Object.entries(joins)) {
    const renamed: Record<string, number> = {}
    for (const [flow, n] of Object.entries(tokens)) renamed[mapping.get(flow) ?? flow] = n
    out[mapping.get(gw) ?? gw] = renamed
  }
  return out
}
