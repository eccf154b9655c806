import type { Clock } from '../clock'
import type { ProcessModel } from '../model/types'
import { MemoryHistory, type History } from '../state/history'
import type { Key } from '../state/records'
import { takeFinishedInstance } from './archive'
import { DueTimerBehavior } from './behaviors/due-timers'
import { EventSubscriptionBehavior } from './behaviors/event-subscriptions'
import { FlowBehavior } from './behaviors/flow'
import { IncidentBehavior } from './behaviors/incidents'
import { InstanceBehavior } from './behaviors/instances'
import { CompensationBehavior } from './behaviors/compensation'
import { JobBehavior } from './behaviors/jobs'
import { ExecutionListenerBehavior } from './behaviors/listeners'
import { MessageBehavior } from './behaviors/messages'
import { PropagationBehavior } from './behaviors/propagation'
import { SignalBehavior } from './behaviors/signals'
import { UserTaskBehavior } from './behaviors/user-tasks'
import { VariableMappingBehavior } from './behaviors/variable-mappings'
import { multiInstanceBodyProcessor } from './elements/containers/multi-instance-body'
import type { ElementProcessor, ProcessingContext } from './processing'
import { ELEMENT_PROCESSORS } from './elements/registry'
import { Expressions } from './expressions'
import { CommandRunner } from './journal'
import { Repository } from './repository'
import { KEY_BASE, RuntimeState, type ElementInstance } from './runtime-state'
import { VariableStore } from './variables'

/**
 * Straight-through steps one command may take before it yields to the event loop (Zeebe's
 * processing batch limit plays this part): other commands are served before it goes on.
 */
export const STEPS_PER_COMMAND = 500
/** While the store refuses commands, left-over steps are tried again this often. */
const CONTINUE_RETRY_MS = 500

/**
 * The processing context of one engine: it owns the state and builds every behaviour, each of
 * which gets the context back (Zeebe's BpmnBehaviors), typed by the ProcessingContext contract.
 */
export class RuntimeContext implements ProcessingContext {
  readonly state = new RuntimeState()
  /** The clock FEEL and decisions read: engine time. */
  readonly engineClock: Clock = { now: () => this.now() }
  readonly runner: CommandRunner
  readonly repo = new Repository(() => this.nextKey())
  readonly expr = new Expressions(this.engineClock)
  readonly vars: VariableStore
  readonly flow: ProcessingContext['flow'] = new FlowBehavior(this)
  readonly instances: ProcessingContext['instances'] = new InstanceBehavior(this)
  readonly mappings: ProcessingContext['mappings'] = new VariableMappingBehavior(this)
  readonly incidents: ProcessingContext['incidents'] = new IncidentBehavior(this)
  readonly listeners: ProcessingContext['listeners'] = new ExecutionListenerBehavior(this)
  readonly compensation: ProcessingContext['compensation'] = new CompensationBehavior(this)
  readonly subscriptions: ProcessingContext['subscriptions'] = new EventSubscriptionBehavior(this)
  readonly propagation: ProcessingContext['propagation'] = new PropagationBehavior(this)
  readonly jobs: ProcessingContext['jobs'] = new JobBehavior(this)
  readonly userTasks: ProcessingContext['userTasks'] = new UserTaskBehavior(this)
  readonly messages: ProcessingContext['messages'] = new MessageBehavior(this)
  readonly signals: ProcessingContext['signals'] = new SignalBehavior(this)
  readonly timers: ProcessingContext['timers'] = new DueTimerBehavior(this)
  readonly processors = ELEMENT_PROCESSORS
  readonly multiInstance = multiInstanceBodyProcessor
  /** finished instances, out of the live state (the data dir's, once the engine is durable) */
  history: History = new MemoryHistory()
  /** root instances finished by the command under way: they go to the history at its end */
  endedRoots: Key[] = []
  /** set once the engine closes: no wake-ups, no stream hand-backs */
  closed = false
  private continuation: NodeJS.Immediate | undefined
  /** the element instance the latest step worked on: a command that fails is pinned on it */
  current: ElementInstance | undefined

  constructor(readonly clock: Clock) {
    this.runner = new CommandRunner(clock, (isCommand) => this.finishCommand(isCommand))
    // Variable lookups only read the scopes (peek): they would otherwise mark every ancestor as changed.
    this.vars = new VariableStore(
      () => this.nextKey(),
      (scope) => this.state.elements.peek(scope)?.scopeKey,
      (scope) => {
        const ei = this.state.elements.peek(scope) as ElementInstance
        return { processInstanceKey: ei.processInstanceKey, processDefinitionKey: ei.processDefinitionKey, bpmnProcessId: ei.bpmnProcessId, tenantId: ei.tenantId }
      },
    )
  }

  /** Stop every timer; the engine answers no more commands after this. */
  close(): void {
    this.closed = true
    this.timers.stop()
    if (this.continuation) clearImmediate(this.continuation)
    this.instances.rejectAwaiters()
  }

  /** Steps left on the work stack (after a recovery, or a yield) go on soon, as a command of their own. */
  resumeWork(): void {
    if (this.state.work.length > 0) this.continueLater()
  }

  /** The end of a command: its steps (up to the budget), then buffered messages for the subscriptions it opened. */
  private finishCommand(isCommand: boolean): void {
    let budget = STEPS_PER_COMMAND
    for (;;) {
      if (isCommand) budget = this.flow.drain(budget)
      this.messages.settle()
      if (!isCommand || budget <= 0 || this.state.work.length === 0) break
    }
    if (this.state.work.length > 0 && !this.runner.isReplaying) this.continueLater()
    this.archiveFinished()
  }

  /**
   * Root instances that finished go to the history once no step is left (a step left over could
   * still concern them). Part of the command, so a replay moves them at the same point.
   */
  private archiveFinished(): void {
    if (this.endedRoots.length === 0 || this.state.work.length > 0) return
    const roots = this.endedRoots
    this.endedRoots = []
    for (const key of roots) {
      const archived = takeFinishedInstance(this.state, this.vars, key)
      if (archived) this.history.add(archived)
    }
  }

  private continueLater(): void {
    if (this.continuation || this.closed) return
    this.continuation = setImmediate(() => {
      this.continuation = undefined
      if (this.closed || this.state.work.length === 0) return
      try {
        this.runner.run({ c: 'cont' }, () => undefined)
      } catch (error) {
        // The store refuses commands (disk full, read-only): the steps wait until it accepts them again.
        if (!this.runner.journal?.failure) throw error
        setTimeout(() => this.continueLater(), CONTINUE_RETRY_MS).unref()
      }
    })
  }

  /** Engine time: frozen for the length of a command. */
  now(): number {
    return this.runner.now()
  }

  nextKey(): Key {
    // Keys come only from inside a command, so that replaying the journal gives the same keys.
    if (!this.runner.inCommand) throw new Error('engine key generated outside a command')
    this.state.counter++
    return String(KEY_BASE + this.state.counter)
  }

  model(ei: ElementInstance): ProcessModel {
    const p = this.repo.processes.get(ei.definitionKey) ?? this.state.retiredModels.get(ei.definitionKey)
    if (!p) throw new Error(`process definition ${ei.definitionKey} is gone`)
    return p.model
  }

  scopeOf(ei: ElementInstance): ElementInstance | undefined {
    return ei.scopeKey ? this.state.elements.get(ei.scopeKey) : undefined
  }

  visible(ei: ElementInstance): () => Record<string, unknown> {
    return () => this.vars.visible(ei.key)
  }

  /** The processor of an element instance (not the PROCESS root, which has no element). */
  processorOf(ei: ElementInstance): ElementProcessor {
    if (ei.isMiBody) return this.multiInstance
    if (!ei.element) throw new Error(`element instance ${ei.key} has no element`)
    return this.processors[ei.element.type]
  }
}
