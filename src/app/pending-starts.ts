/**
 * Declaring an incident or requesting a cut writes its record, then starts its process, then
 * stores the process key. A crash in between leaves a record that says "open" with no process.
 * The record keeps the variables its process starts with until the key is stored, and at start-up
 * each such start is finished: the instance is looked up by its business key (incidentId, cutId),
 * since the engine may have started it before the crash, and started only when there is none.
 */
import type { Logger } from 'pino'
import type { PendingStartEngine } from '../engine-client/pending-start-engine'
import type { CutStore } from './cuts/cut-store'
import type { TraceStore } from './incidents/trace-store'

interface PendingStore {
  pendingStarts(): Array<{ id: string; variables: Record<string, unknown> }>
  setProcessInstanceKey(id: string, processInstanceKey: string): void
}

/** Finishes every start a crash cut short; returns the ids it finished. Run before the API serves. */
export async function resumePendingStarts(options: { trace: TraceStore; cuts: CutStore; engine: PendingStartEngine; logger: Pick<Logger, 'warn'> }): Promise<string[]> {
  const kinds: Array<{ store: PendingStore; processId: string; businessKey: string }> = [
    { store: options.trace, processId: 'incident-management', businessKey: 'incidentId' },
    { store: options.cuts, processId: 'interconnection-cut', businessKey: 'cutId' },
  ]
  const resumed: string[] = []
  for (const { store, processId, businessKey } of kinds) {
    for (const { id, variables } of store.pendingStarts()) {
      const existing = await options.engine.findInstance(processId, businessKey, id)
      const processInstanceKey = existing ?? (await options.engine.startProcess(processId, variables))
      store.setProcessInstanceKey(id, processInstanceKey)
      options.logger.warn({ id, processInstanceKey, adopted: existing !== undefined }, `start of ${id} was cut short by a stop: ${existing === undefined ? 'its process started now' : 'its process was found running'}`)
      resumed.push(id)
    }
  }
  return resumed
}
