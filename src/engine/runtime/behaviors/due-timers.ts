import { EngineError } from '../../api'
import type { FlowElement } from '../../model/types'
import type { Key, TimerRecord } from '../../state/records'
import type { ProcessingContext } from '../processing'
import type { DueEntry } from '../due-queue'
import { IncidentError } from '../expressions'
import { isInterrupting } from '../runtime-state'
import { nextTimerSchedule, scheduleTimeCycle, scheduleTimeDate, scheduleTimeDuration, type TimerSchedule } from '../timer-schedule'
import { MAX_TIMEOUT } from './instances'

/** While the store refuses commands, due timers are tried again this often. */
const DUE_RETRY_MS = 500

/**
 * Everything that comes due on the engine clock (timers, job deadlines and back-offs, message
 * expiries), and the one real-time wake-up that fires it.
 */
export class DueTimerBehavior {
  private wakeTimer: NodeJS.Timeout | undefined
  /** real time (Date.now()) at which the armed wake-up fires */
  private wakeAt = Infinity

  constructor(private readonly ctx: ProcessingContext) {}

  schedule(timerType: 'timeDuration' | 'timeDate' | 'timeCycle', expression: string, vars: () => Record<string, unknown>): TimerSchedule {
    const value = this.ctx.expr.raw(expression, vars)
    const now = this.ctx.now()
    try {
      if (timerType === 'timeDuration') return scheduleTimeDuration(value, now)
      if (timerType === 'timeDate') return scheduleTimeDate(value, now)
      return scheduleTimeCycle(value, now)
    } catch (e) {
      throw new IncidentError('EXTRACT_VALUE_ERROR', (e as Error).message)
    }
  }

  addTimer(s: TimerSchedule, owner: Omit<TimerRecord, 'key' | 'dueDate' | 'repetitions' | 'interval' | 'cron'>): TimerRecord {
    const t: TimerRecord = { key: this.ctx.nextKey(), dueDate: s.dueDate, repetitions: s.repetitions, interval: s.interval, cron: s.cron, ...owner }
    this.ctx.state.timers.set(t.key, t)
    this.ctx.state.due.push(t.dueDate, 'timer', t.key)
    this.armWake()
    return t
  }

  /**
   * Keep one real-time wake-up armed for the earliest due entry. It is compared in real time:
   * when the clock is pinned and moved, a wake-up armed earlier may be due much later than needed.
   */
  armWake(): void {
    if (this.ctx.closed) return
    const next = this.ctx.state.due.nextAt()
    if (next === undefined) return
    const delay = Math.max(0, Math.min(next - this.ctx.clock.now(), MAX_TIMEOUT))
    const fireAt = Date.now() + delay
    if (this.wakeTimer && this.wakeAt <= fireAt) return
    this.setWake(delay)
  }

  stop(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
  }

  /** Fire everything now due, as one command. */
  processDue(): void {
    const ctx = this.ctx
    if (ctx.closed) return
    const first = ctx.state.due.nextAt()
    if (first !== undefined && first <= ctx.clock.now()) {
      // One command for everything due now, fired in due order at one engine time.
      try {
        ctx.runner.run({ c: 'tick' }, () => this.fireAllDue())
      } catch (error) {
        // The store refuses commands (disk full, read-only): what is due stays due and fires once it accepts them again.
        if (!(error instanceof EngineError && error.type === 'RESOURCE_EXHAUSTED' && ctx.runner.journal?.failure)) throw error
        this.setWake(DUE_RETRY_MS)
        return
      }
    }
    this.armWake()
  }

  /** Fire everything due at the command's engine time, in due order, one work step each. */
  fireAllDue(): void {
    this.ctx.state.work.push({ k: 'due' })
  }

  /** A work step: fire the earliest due entry, after which (below its own consequences) the next one fires. */
  fireNextDue(): void {
    const due = this.ctx.state.due
    const next = due.peek()
    if (!next || next.at > this.ctx.now()) return
    due.pop()
    this.ctx.state.work.push({ k: 'due' })
    this.fireDue(next.kind, next.key, next.at)
  }

  private setWake(delay: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeAt = Date.now() + delay
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined
      this.wakeAt = Infinity
      this.processDue()
    }, delay)
    this.wakeTimer.unref()
  }

  private fireDue(kind: DueEntry['kind'], key: Key, at: number): void {
    const ctx = this.ctx
    const { jobs, messages, timers } = ctx.state
    if (kind === 'job-deadline') {
      const job = jobs.get(key)
      if (job && job.state === 'ACTIVATED' && job.deadline === at) ctx.jobs.makeActivatable(job)
      return
    }
    if (kind === 'job-backoff') {
      const job = jobs.get(key)
      if (job && job.state === 'ACTIVATABLE' && job.recurAt === at) {
        job.recurAt = undefined
        ctx.jobs.makeActivatable(job)
      }
      return
    }
    if (kind === 'message-expiry') {
      const m = messages.get(key)
      if (m && m.expiresAt <= ctx.now()) messages.delete(key)
      return
    }
    const timer = timers.get(key)
    if (!timer || timer.dueDate !== at) return
    timers.delete(key)
    const now = ctx.now()
    const next = nextTimerSchedule({ dueDate: timer.dueDate, repetitions: timer.repetitions, interval: timer.interval, cron: timer.cron }, timer.dueDate, now)
    if (timer.elementInstanceKey === undefined) {
      const def = ctx.repo.processes.get(timer.processDefinitionKey)
      if (def) {
        ctx.instances.start(def, {}, [timer.elementId])
        if (next) this.addTimer(next, { elementId: timer.elementId, processDefinitionKey: timer.processDefinitionKey, tenantId: timer.tenantId })
      }
      return
    }
    const owner = ctx.state.elements.get(timer.elementInstanceKey)
    if (!owner || owner.lifecycle !== 'ACTIVATED') return
    owner.timerKeys = owner.timerKeys?.filter((k) => k !== key)
    const catchEl = ctx.model(owner).elements.get(timer.elementId) as FlowElement
    if (!isInterrupting(catchEl) && next) {
      const t = this.addTimer(next, { elementId: timer.elementId, elementInstanceKey: owner.key, processInstanceKey: owner.processInstanceKey, processDefinitionKey: owner.processDefinitionKey, tenantId: owner.tenantId })
      ;(owner.timerKeys ??= []).push(t.key)
    }
    ctx.subscriptions.trigger(owner, catchEl, {})
  }
}
