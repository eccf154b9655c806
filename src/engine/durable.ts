import type { Clock } from './clock'
import { coldSnapshotFromRows, ROW_KINDS, SLICE_CHARS, takeDeferred } from './runtime/checkpoint'
import type { Command } from './runtime/commands'
import { Engine } from './runtime/engine'
import { VARIABLE_KIND } from './runtime/variables'
import type { EngineSnapshot } from './runtime/snapshot'
import { DirtyTracker } from './state/record-map'
import { assembleSnapshot } from './state/snapshot-parts'
import { SqliteHistory } from './state/sqlite-history'
import { EngineStore, type StoredSnapshot } from './state/store'

/**
 * Keys handed out by commands that were not committed before a crash must never come back for
 * something else: after a recovery, the key counter jumps by this much.
 */
const KEY_GAP_AFTER_RECOVERY = 1_000_000
/**
 * A checkpoint writes the rows of the records changed since the previous one. It is due once this
 * many changed (a record created and removed in between is no change: an instance that starts and
 * ends between two checkpoints does not count), so that one checkpoint stays short (a few tens of
 * ms) whatever the load: it is
 * written as soon as the commands at hand are done, not at the next periodic check, which a busy
 * event loop delays...
 */
const CHECKPOINT_MAX_CHANGES = 1_000
/** ...or once this long has passed with any change, so that a restart replays little. */
const CHECKPOINT_MAX_MS = 1_000
const CHECKPOINT_CHECK_MS = 50
/**
 * A checkpoint's rows deferred by its build, then the finished instances held back, are built this
 * long (or SLICE_CHARS) at a time, one slice per turn of the event loop.
 */
const SLICE_MS = 10
/** long checkpoint builds kept (DurableEngine.checkpoints.long) */
const LONG_KEPT = 1_000
/**
 * Records kept in memory, unless a checkpoint has still to write them: past this many, those
 * unused longest are left in their rows and read again on first use. A checkpoint is loaded with
 * all of them left there. So memory and start time follow the work in hand, not the state kept.
 */
export const DEFAULT_RECORDS_IN_MEMORY = 100_000
/**
 * Records (and variable scopes) left out of memory in one turn of the event loop, at most; the
 * rest in the next turns, while no checkpoint is being written. Creating a million waiting
 * instances at 6,000/s, checkpoints followed each other so closely that records piled up between
 * the moments eviction may run: 90,000 to 134,000 went at once, holding the event loop 45 to 69 ms
 * (about 0.5 µs each; bench/PERFORMANCE.md).
 */
const EVICT_PER_TURN = 10_000

export interface DurableEngine {
  engine: Engine
  store: EngineStore
  /** what recovery found: commands replayed and how long it took */
  recovery: { snapshotSeq: number; replayed: number; ms: number }
  /**
   * Write a checkpoint now (the records changed since the last one), and drop the log up to it.
   * Returns the rows written and deleted, or undefined when there was nothing to write.
   */
  checkpoint(): { written: number; deleted: number } | undefined
  /**
   * Begin a checkpoint and go on, as the periodic check does, its first hold of the event loop
   * `budgetMs` long at most (its rows past that are built in slices, and before any command changes
   * their records): `then` is told once it is committed or failed. False when none began (one is
   * being built or written, or nothing changed).
   */
  checkpointInSlices(then: (error?: Error) => void, budgetMs?: number): boolean
  /**
   * Checkpoints handed to the writer thread so far: how many, the time building their rows took
   * on the event loop (total and longest) and the most rows one wrote. The writer thread's time is
   * store.writerCheckpoints. `long`: the builds of 20 ms or more (their start, ms since the epoch),
   * the last LONG_KEPT, for a benchmark to match against the stalls it saw.
   */
  readonly checkpoints: { count: number; totalMs: number; maxMs: number; maxRows: number; long: { at: number; ms: number }[] }
  /** Checkpoint (a failure is logged: the log keeps everything), then close the store. */
  close(): void
}

/** The state a snapshot holds, put back together; of the live table, only what the indexes need (a cold load). */
function storedState(store: EngineStore, snap: StoredSnapshot): EngineSnapshot {
  if (snap.rows) {
    const unknown = store.rowKinds().filter((kind) => !ROW_KINDS.includes(kind))
    if (unknown.length > 0) throw new Error(`it holds rows of kinds this raccord does not know (${unknown.join(', ')}): was it written by a newer raccord?`)
    return coldSnapshotFromRows(snap.rows, snap.fields, snap.variableScopesUpTo)
  }
  return (snap.parts ? assembleSnapshot(snap.parts) : JSON.parse(snap.state)) as EngineSnapshot
}

/** Open the engine on `dataDir`: load the last checkpoint, replay the log, then journal every command. */
export async function openDurableEngine(dataDir: string, clock?: Clock, historyRetentionMs?: number, recordsInMemory = DEFAULT_RECORDS_IN_MEMORY): Promise<DurableEngine> {
  const started = Date.now()
  const store = EngineStore.open(dataDir)
  const engine = new Engine({ clock, historyRetentionMs })
  // Finished instances live in the data dir, not in the engine's memory or its checkpoint.
  engine.useHistory(new SqliteHistory(store))
  // Records left out of memory are read again from their rows in the last checkpoint.
  engine.useColdRows({
    read: (kind, key) => store.liveRow(kind, key),
    ofScope: (scopeKey) => store.variablesOfScope(scopeKey),
    all: () => store.allVariables(),
    headsAfter: (afterKey, limit) => store.variableHeadsAfter(afterKey, limit),
    byKey: (key) => store.liveRow(VARIABLE_KIND, key),
  })
  // Loading marks nothing; from the replay on, every change is marked.
  const tracker = new DirtyTracker()
  engine.track(tracker)
  let replayed = 0
  let snapshotSeq = 0
  /** the state came from an earlier raccord's snapshot: the first checkpoint writes every record */
  let writeAll = false
  try {
    const snap = store.readSnapshot()
    if (snap) {
      let state: EngineSnapshot
      try {
        state = storedState(store, snap)
      } catch (e) {
        throw new Error(`Cannot read the engine state in '${store.file}': ${(e as Error).message}`, { cause: e })
      }
      await engine.importState(state, snap.rows !== undefined)
      snapshotSeq = snap.seq
      writeAll = snap.rows === undefined
    }
    tracker.active = true
    for (const entry of store.readLog(snapshotSeq)) {
      replayed++
      let command: Command
      try {
        command = JSON.parse(entry.command) as Command
      } catch {
        console.error(`[engine] recovery: the command at log position ${entry.seq} is not JSON; skipped`)
        continue
      }
      const failure = await engine.replay(entry.time, command)
      if (failure) {
        const instance = failure.processInstanceKey
          ? `process instance ${failure.processInstanceKey} is left with incident ${failure.incidentKey}`
          : 'it concerned no process instance'
        console.error(`[engine] recovery: replaying command '${failure.command}' at log position ${entry.seq} failed (${failure.error}); ${instance}`)
      }
    }
  } catch (e) {
    store.close()
    throw e
  }
  engine.attachJournal(store)
  if (snapshotSeq > 0 || replayed > 0) engine.skipKeys(KEY_GAP_AFTER_RECOVERY)
  let checkpointSeq = snapshotSeq
  let checkpointAt = Date.now()
  /** the repository's revision in the last checkpoint (undefined: the stored state has no repository row yet) */
  let repositoryRevision: number | undefined = snapshotSeq > 0 && !writeAll ? engine.repositoryRevision : undefined

  const checkpoints = { count: 0, totalMs: 0, maxMs: 0, maxRows: 0, long: [] as { at: number; ms: number }[] }
  /** the id of a checkpoint handed to the writer thread and not committed yet */
  let writing: number | undefined
  // A checkpoint that fails loses nothing: the log keeps every command and the next check tries
  // again. It is said once per distinct reason, not at every check.
  let lastFailure: string | undefined
  const report = (when: string, error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error)
    if (reason !== lastFailure) console.error(`[engine] checkpoint ${when} failed (${reason}); the log keeps every command since the last one`)
    lastFailure = reason
  }
  /** A checkpoint whose rows are being built in slices: `finish` builds the rest now and hands it over. */
  let building: { finish(): void } | undefined
  let stagingToken = 0
  /** One hold of the event loop by a checkpoint: its build, or a slice of it. */
  const held = (started: number) => {
    const ms = performance.now() - started
    checkpoints.totalMs += ms
    checkpoints.maxMs = Math.max(checkpoints.maxMs, ms)
    if (ms >= 20) {
      checkpoints.long.push({ at: performance.timeOrigin + started, ms })
      if (checkpoints.long.length > LONG_KEPT) checkpoints.long.shift()
    }
  }
  /**
   * Hand a checkpoint to the writer thread: the rows are built here, written there. The records it
   * writes stay in memory until it is committed (no eviction meanwhile). Once the build's time is
   * spent, the rows of the other records changed are built later (PendingRows: each before a
   * command changes its record, the rest in slices), then those deferred as copies (large
   * records): slices of SLICE_MS, one per turn of the event loop, handed over ahead; the checkpoint
   * follows the last. `then` is told once it is
   * committed or failed. Returns its rows and, once handed over, its id; undefined when there was
   * nothing to write.
   */
  const startCheckpoint = (when: string, then?: (error?: Error) => void, budgetMs?: number): { id?: number; written: number; deleted: number } | undefined => {
    const started = performance.now()
    // A store that failed writes its buffer to the log first (it retries on its own): no checkpoint meanwhile.
    if (store.failure || writing !== undefined || building !== undefined) return undefined
    if (store.lastSeq === checkpointSeq && tracker.size === 0 && !writeAll) return undefined
    const marks = tracker.take()
    let rows: ReturnType<Engine['checkpointRows']>
    try {
      rows = engine.checkpointRows(writeAll ? 'all' : { marks, revision: repositoryRevision }, budgetMs)
    } catch (error) {
      tracker.restore(marks)
      throw error
    }
    const pending = rows.pending
    // From here on, a command about to change a record whose row is still to be built builds it first.
    if (pending) tracker.beforeChange = (kind, key) => pending.beforeChange(kind, key)
    const revision = engine.repositoryRevision
    const committed = (outcome: { seq: number } | { error: Error }) => {
      writing = undefined
      if ('error' in outcome) {
        // Nothing was written: the next checkpoint writes these records again.
        tracker.restore(marks)
        report(when, outcome.error)
        then?.(outcome.error)
        return
      }
      writeAll = false
      repositoryRevision = revision
      checkpointSeq = outcome.seq
      checkpointAt = Date.now()
      lastFailure = undefined
      then?.()
    }
    const result: { id?: number; written: number; deleted: number } = {
      written: rows.upserts.length + rows.deferred.length + (pending?.size ?? 0), deleted: rows.deletes.length + rows.scopeDeletes.length,
    }
    checkpoints.count++
    checkpoints.maxRows = Math.max(checkpoints.maxRows, result.written + result.deleted)
    if (!pending && rows.deferred.length === 0 && store.heldBackHistory === 0) {
      result.id = writing = store.writeCheckpoint(rows, Date.now(), committed)
      held(started)
      return result
    }
    // The rows hold the state as it is now: the commands run from here on are logged as usual. The
    // finished instances held back so far go with it, staged in slices too (their rows can be large).
    const sliced = { seq: store.lastSeq, token: ++stagingToken, staged: 0 }
    const now = Date.now()
    let next: NodeJS.Immediate | undefined
    let historyStaged = false
    store.beginSlicedCheckpoint(sliced.token)
    // (even none: the writer thread then knows the checkpoint, whose count of rows staged is 0)
    const stage = (built: ReturnType<typeof takeDeferred>) => {
      sliced.staged += built.length
      store.stageCheckpointRows(built)
    }
    const endBuilding = () => {
      building = undefined
      store.finishStaging = undefined
      tracker.beforeChange = undefined
    }
    const slice = (budgetMs: number, maxChars: number) => {
      if (pending && !pending.done) stage(pending.take(budgetMs, maxChars, rows.deletes))
      else if (rows.deferred.length > 0) stage(takeDeferred(rows.deferred, budgetMs, maxChars))
      else historyStaged = store.stageCheckpointHistory(maxChars)
      if ((pending && !pending.done) || rows.deferred.length > 0 || !historyStaged) return
      endBuilding()
      result.id = writing = store.writeCheckpoint(rows, now, committed, sliced)
    }
    const step = () => {
      const from = performance.now()
      next = undefined
      try {
        slice(SLICE_MS, SLICE_CHARS)
      } catch (error) {
        // Nothing of it is written: its records are marked again, its finished instances go back.
        endBuilding()
        store.abandonSlicedCheckpoint()
        tracker.restore(marks)
        report(when, error)
        then?.(error instanceof Error ? error : new Error(String(error)))
      }
      if (building) next = setImmediate(step)
      held(from)
    }
    building = {
      finish: () => {
        if (next) clearImmediate(next)
        while (building) slice(Infinity, Infinity)
      },
    }
    store.finishStaging = () => building?.finish()
    next = setImmediate(step)
    held(started)
    return result
  }
  const tryCheckpoint = (when: string) => {
    try {
      startCheckpoint(when)
    } catch (error) {
      report(when, error)
    }
  }
  /** A checkpoint now, waited for (after the one in the writer thread, if any); a failure is thrown. */
  const checkpoint = (when = 'asked for'): { written: number; deleted: number } | undefined => {
    building?.finish()
    if (writing !== undefined) store.waitFor(writing)
    let failure: Error | undefined
    let started: ReturnType<typeof startCheckpoint>
    try {
      started = startCheckpoint(when, (error) => { failure = error })
    } catch (error) {
      report(when, error)
      throw error
    }
    if (!started) return undefined
    building?.finish()
    store.waitFor(started.id as number)
    if (failure) throw failure
    return { written: started.written, deleted: started.deleted }
  }
  // State read from an earlier raccord's snapshot becomes rows at once, before the engine serves.
  if (writeAll) {
    try {
      checkpoint('after recovery')
    } catch {
      // (said by the checkpoint; the log keeps everything)
    }
  }

  let evicting: NodeJS.Immediate | undefined
  /** EVICT_PER_TURN records leave memory each turn, until few enough are left or a checkpoint starts. */
  const evictSoon = () => {
    evicting = undefined
    if (writeAll || writing !== undefined || building !== undefined) return
    if (engine.evict(recordsInMemory, EVICT_PER_TURN) >= EVICT_PER_TURN) evicting = setImmediate(evictSoon)
  }
  let soon: NodeJS.Immediate | undefined
  tracker.full = {
    at: CHECKPOINT_MAX_CHANGES,
    then: () => {
      // (after a failure, the periodic check retries: not every turn of the loop)
      if (lastFailure !== undefined) return
      soon ??= setImmediate(() => {
        soon = undefined
        tryCheckpoint('of the periodic check')
      })
    },
  }
  const timer = setInterval(() => {
    const due = tracker.size >= CHECKPOINT_MAX_CHANGES
      || ((tracker.size > 0 || store.lastSeq > checkpointSeq) && Date.now() - checkpointAt >= CHECKPOINT_MAX_MS)
    if (due) tryCheckpoint('of the periodic check')
    // Records the last checkpoint wrote (and any only read) may leave memory; a state read from an
    // earlier raccord's snapshot may not before its first checkpoint.
    if (evicting === undefined) evictSoon()
  }, CHECKPOINT_CHECK_MS)
  timer.unref()

  return {
    engine,
    store,
    recovery: { snapshotSeq, replayed, ms: Date.now() - started },
    checkpoint: () => checkpoint(),
    checkpointInSlices: (then, budgetMs) => startCheckpoint('asked for', then, budgetMs) !== undefined,
    checkpoints,
    close: () => {
      clearInterval(timer)
      if (soon) clearImmediate(soon)
      if (evicting) clearImmediate(evicting)
      engine.close()
      // Stopping succeeds even when the checkpoint cannot be written: the next start replays the log.
      try {
        checkpoint('at stop')
      } catch {
        // (said by the checkpoint; the log keeps everything)
      }
      store.close()
    },
  }
}
