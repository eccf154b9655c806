/**
 * A snapshot written as many bounded parts instead of one string: V8 cannot build a string over
 * about 512 M characters, and one huge string also means one huge allocation. Each part is the
 * JSON of one top-level value, or of a slice of records of a top-level array (or of an array one
 * level down, such as the repository's resources), at most `maxChars` characters unless a single
 * record is larger.
 */

/** The characters a part holds before a new one starts (a single larger record gets its own). */
export const DEFAULT_PART_CHARS = 4_000_000

export interface SnapshotPart {
  /** where the value goes: the JSON of its key path, e.g. `["repository","resources"]` */
  path: string
  json: string
}

type Plain = Record<string, unknown>

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Split `state` into parts, lazily: only one part's JSON is held at a time. */
export function* snapshotParts(state: object, maxChars = DEFAULT_PART_CHARS): Generator<SnapshotPart> {
  yield* partsOf([], state as Plain, maxChars, 0)
}

function* partsOf(prefix: string[], value: Plain, maxChars: number, depth: number): Generator<SnapshotPart> {
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue
    const keyPath = [...prefix, key]
    const path = JSON.stringify(keyPath)
    if (Array.isArray(child)) {
      yield { path, json: '[]' }
      let slice: string[] = []
      let chars = 0
      for (const record of child) {
        const json = JSON.stringify(record) ?? 'null'
        if (slice.length > 0 && chars + json.length > maxChars) {
          yield { path, json: `[${slice.join(',')}]` }
          slice = []
          chars = 0
        }
        slice.push(json)
        chars += json.length + 1
      }
      if (slice.length > 0) yield { path, json: `[${slice.join(',')}]` }
    } else if (depth === 0 && isPlainObject(child)) {
      yield { path, json: '{}' }
      yield* partsOf(keyPath, child, maxChars, depth + 1)
    } else {
      yield { path, json: JSON.stringify(child) }
    }
  }
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
