/**
 * A check of incremental checkpoints: after a checkpoint, the rows of the data dir must hold
 * exactly the engine's live state. A record a command changed without the tracker seeing it
 * shows up here as a difference (and would be lost by a restart). Each row's index columns must
 * hold the fields of its JSON (a start builds the indexes from them alone), and a variable's row its
 * JSON's length.
 */
import Database from 'better-sqlite3'
import type { DurableEngine } from '../../src/engine/durable'
import { ROW_KINDS, snapshotFromRows } from '../../src/engine/runtime/checkpoint'
import type { EngineSnapshot } from '../../src/engine/runtime/snapshot'
import { FIELD_COLUMNS, fieldValues } from '../../src/engine/state/live-fields'

type Listed = Record<string, unknown>

/** Checkpoint now, then compare the stored rows with the live state; returns the differences. */
export function auditCheckpoint(durable: DurableEngine): string[] {
  durable.checkpoint()
  return storedDifferences(durable, liveState(durable))
}

/** The engine's live state as it is now, copied (commands change the records in place). */
export function liveState(durable: DurableEngine): EngineSnapshot {
  return JSON.parse(JSON.stringify(durable.engine.exportState())) as EngineSnapshot
}

/** Compare the stored rows with `live`, the state the last checkpoint stands for; returns the differences. */
export function storedDifferences(durable: DurableEngine, live: EngineSnapshot): string[] {
  const db = new Database(durable.store.file, { readonly: true })
  const rows = new Map<string, string[]>()
  const differences: string[] = []
  try {
    const stmt = db.prepare(`SELECT kind, key, json, size, ${FIELD_COLUMNS.join(', ')} FROM live`).raw()
    for (const [kind, key, json, size, ...columns] of stmt.iterate() as Iterable<[string, string, string, unknown, ...unknown[]]>) {
      const length = kind === 'variable' ? json.length : null
      if (size !== length) differences.push(`${kind} ${key}: size ${String(size)}, its JSON has ${String(length)} characters`)
      let ofKind = rows.get(kind)
      if (!ofKind) rows.set(kind, (ofKind = []))
      ofKind.push(json)
      const fields = fieldValues(kind, JSON.parse(json) as object)
      const expected = FIELD_COLUMNS.map((_, i) => fields[i] ?? null)
      if (JSON.stringify(columns) !== JSON.stringify(expected)) differences.push(`${kind} ${key}: index columns ${JSON.stringify(columns)}, its JSON has ${JSON.stringify(expected)}`)
    }
  } finally {
    db.close()
  }
  // An engine that never ran a command has no checkpoint yet.
  if (rows.size === 0 && live.counter === 0) return []
  const unknown = [...rows.keys()].filter((kind) => !ROW_KINDS.includes(kind))
  if (unknown.length > 0) return [...differences, `rows of unknown kinds: ${unknown.join(', ')}`]
  const stored = snapshotFromRows((kind) => rows.get(kind) ?? [])
  for (const field of Object.keys(live) as (keyof EngineSnapshot)[]) {
    const a = live[field]
    const b = stored[field]
    if (!Array.isArray(a)) {
      if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${field}: live ${JSON.stringify(a).slice(0, 300)}, stored ${JSON.stringify(b).slice(0, 300)}`)
      continue
    }
    const byKey = (list: unknown) => new Map((list as Listed[]).map((r) => [String(r.key), JSON.stringify(r)]))
    const want = byKey(a)
    const got = byKey(b ?? [])
    for (const [key, json] of want) {
      if (got.get(key) !== json) differences.push(`${field} ${key}: live ${json.slice(0, 300)}, stored ${got.get(key)?.slice(0, 300) ?? 'absent'}`)
    }
    for (const key of got.keys()) if (!want.has(key)) differences.push(`${field} ${key}: stored, but not live`)
  }
  return differences
}
