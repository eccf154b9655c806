import { EngineError, type BatchOperationInput, type EngineApi } from '../api'
import type { BatchOperationItemRecord, BatchOperationRecord, Key } from '../state/records'
import type { ProcessingContext } from './processing'

/** Items one step works through before the engine serves other commands. */
export const BATCH_CHUNK = 50
/** The pause before each step (as Zeebe's batch operation scheduler interval): about 500 items a second. */
export const BATCH_INTERVAL_MS = 100

/** The engine commands a batch applies to each item. */
export type BatchTarget = Pick<EngineApi, 'cancelProcessInstance' | 'resolveIncident' | 'updateJobRetries' | 'migrateProcessInstance' | 'modifyProcessInstance'>

/*
 * Batch operations as Camunda 8.8 runs them (docs: components/concepts/batch-operations): the
 * items are fixed when the operation is created, then worked through in chunks, each item by the
 * same command a client would send (so with the same checks); an item that is refused is FAILED
 * with the engine's message and the others go on. An operation may be suspended, resumed and
 * canceled while it runs. Each step is a journaled command, so a restart finds the same items in
 * the same states and goes on from there.
 */
export class BatchOperations {
  constructor(private readonly ctx: ProcessingContext, private readonly target: BatchTarget) {}

  create(input: BatchOperationInput): BatchOperationRecord {
    const ctx = this.ctx
    const batch: BatchOperationRecord = {
      key: ctx.nextKey(), type: input.type, state: 'ACTIVE', startDate: ctx.now(),
      items: input.items.map((i) => ({ itemKey: i.itemKey, processInstanceKey: i.processInstanceKey, state: 'ACTIVE' })),
      ...(input.migrationPlan ? { migrationPlan: input.migrationPlan } : {}),
      ...(input.moveInstructions ? { moveInstructions: input.moveInstructions } : {}),
    }
    ctx.state.batches.set(batch.key, batch)
    this.finishIfDone(batch)
    return batch
  }

  find(key: Key, verb: string): BatchOperationRecord {
    const batch = this.ctx.state.batches.get(key)
    if (!batch) throw new EngineError('NOT_FOUND', `Expected to ${verb} a batch operation with key '${key}', but no such batch operation was found`, verb.toUpperCase())
    return batch
  }

  /** Work through the next chunk of a running operation. */
  step(key: Key): void {
    const batch = this.ctx.state.batches.get(key)
    if (!batch || batch.state !== 'ACTIVE') return
    let done = 0
    for (const item of batch.items) {
      if (done >= BATCH_CHUNK) break
      if (item.state !== 'ACTIVE') continue
      done++
      this.apply(batch, item)
      item.processedDate = this.ctx.now()
    }
    this.finishIfDone(batch)
  }

  setState(key: Key, change: 'suspend' | 'resume' | 'cancel'): void {
    const batch = this.ctx.state.batches.get(key)
    if (!batch) return
    if (change === 'suspend') batch.state = 'SUSPENDED'
    else if (change === 'resume') batch.state = 'ACTIVE'
    else {
      batch.state = 'CANCELED'
      batch.endDate = this.ctx.now()
      for (const item of batch.items) if (item.state === 'ACTIVE') item.state = 'CANCELED'
    }
  }

  /** The operations with items left to work on. */
  running(): Key[] {
    return [...this.ctx.state.batches.values()].filter((b) => b.state === 'ACTIVE').map((b) => b.key)
  }

  private apply(batch: BatchOperationRecord, item: BatchOperationItemRecord): void {
    try {
      const skipped = this.applyTo(batch, item)
      item.state = skipped ? 'SKIPPED' : 'COMPLETED'
    } catch (error) {
      if (!(error instanceof EngineError)) throw error
      item.state = 'FAILED'
      item.errorMessage = error.message
    }
  }

  /** Returns true when there was nothing to do for the item. */
  private applyTo(batch: BatchOperationRecord, item: BatchOperationItemRecord): boolean {
    const t = this.target
    switch (batch.type) {
      case 'CANCEL_PROCESS_INSTANCE':
        t.cancelProcessInstance(item.processInstanceKey)
        return false
      case 'RESOLVE_INCIDENT': {
        // As Operate's retry: a job out of retries gets one, then its incident is resolved.
        const incident = this.ctx.state.incidents.get(item.itemKey)
        const job = incident?.jobKey ? this.ctx.state.jobs.get(incident.jobKey) : undefined
        if (incident?.state === 'ACTIVE' && job && job.retries <= 0) t.updateJobRetries(job.key, 1)
        t.resolveIncident(item.itemKey)
        return false
      }
      case 'MIGRATE_PROCESS_INSTANCE': {
        const plan = batch.migrationPlan as NonNullable<BatchOperationRecord['migrationPlan']>
        t.migrateProcessInstance({ processInstanceKey: item.processInstanceKey, ...plan })
        return false
      }
      case 'MODIFY_PROCESS_INSTANCE': {
        const terminate: { elementInstanceKey: Key }[] = []
        const activate: { elementId: string }[] = []
        for (const move of batch.moveInstructions ?? []) {
          for (const elementKey of this.ctx.state.elements.keysOf(item.processInstanceKey)) {
            const ei = this.ctx.state.elements.peek(elementKey)
            if (!ei || ei.elementId !== move.sourceElementId || ei.isMiBody) continue
            if (ei.lifecycle !== 'ACTIVATED' && ei.lifecycle !== 'ACTIVATING') continue
            terminate.push({ elementInstanceKey: ei.key })
            activate.push({ elementId: move.targetElementId })
          }
        }
        if (terminate.length === 0) return true
        t.modifyProcessInstance({ processInstanceKey: item.processInstanceKey, terminateInstructions: terminate, activateInstructions: activate })
        return false
      }
    }
  }

  private finishIfDone(batch: BatchOperationRecord): void {
    if (batch.state !== 'ACTIVE' || batch.items.some((i) => i.state === 'ACTIVE')) return
    batch.state = batch.items.some((i) => i.state === 'FAILED') ? 'PARTIALLY_COMPLETED' : 'COMPLETED'
    batch.endDate = this.ctx.now()
  }
}
