/**
 * How schema versions 2 to 4 stored the engine's state: a snapshot in bounded parts, each the JSON
 * of one top-level value or of a slice of records of a top-level array (or of an array one level
 * down). The engine now stores rows (runtime/checkpoint.ts) and only reads this format, to load a
 * data dir an earlier raccord wrote; test/support/earlier-snapshot.ts writes it.
 */

export interface SnapshotPart {
  /** where the value goes: the JSON of its key path, e.g. `["repository","resources"]` */
  path: string
  json: string
}

type Plain = Record<string, unknown>

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Put the parts back together, in the order they were written. */
export function assembleSnapshot(parts: Iterable<{ path: string; json: string }>): Plain {
  const root: Plain = {}
  for (const part of parts) {
    const keyPath = JSON.parse(part.path) as string[]
    const value: unknown = JSON.parse(part.json)
    let target = root
    for (const key of keyPath.slice(0, -1)) {
      const next = target[key]
      if (!isPlainObject(next)) throw new Error(`Snapshot part ${part.path} comes before its parent`)
      target = next
    }
    const last = keyPath[keyPath.length - 1]
    const existing = target[last]
    if (Array.isArray(existing) && Array.isArray(value)) {
      for (const record of value) existing.push(record)
    } else {
      target[last] = value
    }
  }
  return root
}
