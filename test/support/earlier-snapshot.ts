/**
 * The snapshot format of schema versions 2 to 4 (src/engine/state/snapshot-parts.ts reads it),
 * written as an earlier raccord wrote it: tests make such data dirs to prove they still load.
 * Each part is the JSON of one top-level value, or of a slice of records of a top-level array (or
 * of an array one level down), at most `maxChars` characters unless a single record is larger.
 */
import type { SnapshotPart } from '../../src/engine/state/snapshot-parts'

type Plain = Record<string, unknown>

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Split `state` into parts, lazily: only one part's JSON is held at a time. */
export function* snapshotParts(state: object, maxChars: number): Generator<SnapshotPart> {
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
