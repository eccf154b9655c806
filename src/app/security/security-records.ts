/**
 * What vulnerabilities and trace requests share: each is a record in the security trace that runs
 * one process instance, opened with it and read beside it.
 */
import { randomBytes } from 'node:crypto'
import { EngineUnavailableError } from '../incidents/incidents'
import type { EngineIncident, ProcessEngine, WaitingElement } from '../../engine-client/process-engine'
import type { RecordKind, SecurityRecord, SecurityStore } from './security-store'

/** Where a record's process stands, as the API shows it. */
export interface RecordProcess {
  state: string | null
  waitingAt: WaitingElement[]
  incidents: EngineIncident[]
}

/** A record to open, and the process it runs. */
export interface RecordStart<D extends object> {
  record: { id: string; kind: RecordKind; state: string; data: D; at: string }
  processId: string
  variables: Record<string, unknown>
}

/**
 * Opens the record and starts its process. Throws EngineUnavailableError, having forgotten the
 * record: nothing is left behind then.
 */
export async function openWithProcess<D extends object>(store: SecurityStore, engine: ProcessEngine, start: RecordStart<D>): Promise<SecurityRecord<D>> {
  const record = store.create(start.record)
  let processInstanceKey: string
  try {
    processInstanceKey = await engine.startProcess(start.processId, start.variables)
  } catch (error) {
    store.discard(record.id)
    throw new EngineUnavailableError(`Cannot start process '${start.processId}': ${(error as Error).message}`, { cause: error })
  }
  store.update(record.id, { processInstanceKey, at: start.record.at })
  return { ...record, processInstanceKey }
}

/** Where the record's process stands; null when it has none. Throws EngineUnavailableError. */
export async function processOf(engine: ProcessEngine, record: SecurityRecord<unknown>): Promise<RecordProcess | null> {
  if (record.processInstanceKey === undefined) return null
  try {
    const progress = await engine.progress(record.processInstanceKey, [])
    return { state: progress.state ?? null, waitingAt: progress.waitingAt, incidents: progress.incidents }
  } catch (error) {
    throw new EngineUnavailableError(`Cannot read process instance ${record.processInstanceKey}: ${(error as Error).message}`, { cause: error })
  }
}

/** PREFIX-YYYYMMDD-xxxx, the date in UTC; drawn again on the rare collision. */
export function newRecordId(store: SecurityStore, prefix: string, now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  for (;;) {
    const id = `${prefix}-${day}-${randomBytes(2).toString('hex')}`
    if (store.get(id) === undefined) return id
  }
}
