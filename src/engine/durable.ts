import type { Clock } from './clock'
import type { Command } from './runtime/commands'
import { Engine } from './runtime/engine'
import type { EngineSnapshot } from './runtime/snapshot'
import { assembleSnapshot, snapshotParts } from './state/snapshot-parts'
import { SqliteHistory } from './state/sqlite-history'
import { EngineStore } from './state/store'

/**
 * Keys handed out by commands that were not committed before a crash must never come back for
 * something else: after a recovery, the key counter jumps by this much.
 */
const KEY_GAP_AFTER_RECOVERY = 1_000_000
/** Snapshot once the log holds this many commands, or more than twice the live records. */
const SNAPSHOT_MIN_COMMANDS = 50_000
const SNAPSHOT_CHECK_MS = 5_000

export interface DurableEngine {
  engine: Engine
  store: EngineStore
  /** what recovery found: commands replayed and how long it took */
  recovery: { snapshotSeq: number; replayed: number; ms: number }
  /** Write a snapshot now (and drop the log up to it). */
  snapshot(): void
  /** Snapshot (a failure is logged: the log keeps everything), then close the store. */
  close(): void
}

/** Open the engine on `dataDir`: load the snapshot, replay the log, then journal every command. */
export async function openDurableEngine(dataDir: string, clock?: Clock, historyRetentionMs?: number): Promise<DurableEngine> {
  const started = Date.now()
  const store = EngineStore.open(dataDir)
  const engine = new Engine({ clock, historyRetentionMs })
  // Finished instances live in the data dir, not in the engine's memory or its snapshot.
  engine.useHistory(new SqliteHistory(store))
  let replayed = 0
  let snapshotSeq = 0
  try {
    const snap = store.readSnapshot()
    if (snap) {
      const state = snap.parts ? assembleSnapshot(snap.parts) : JSON.parse(snap.state)
      await engine.importState(state as EngineSnapshot)
      snapshotSeq = snap.seq
    }
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
  let lastSnapshotSeq = snapshotSeq

  const snapshot = () => {
    store.flush()
    if (store.failure) return
    const seq = store.lastSeq
    if (seq === lastSnapshotSeq) return
    store.writeSnapshot(seq, snapshotParts(engine.exportState()), Date.now())
    lastSnapshotSeq = seq
  }
  // A snapshot that fails loses nothing: the log keeps every command and the next check tries
  // again. It is said once per distinct reason, not every few seconds.
  let lastFailure: string | undefined
  const trySnapshot = (when: string) => {
    try {
      snapshot()
      lastFailure = undefined
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      if (reason !== lastFailure) console.error(`[engine] snapshot ${when} failed (${reason}); the log keeps every command since the last snapshot`)
      lastFailure = reason
    }
  }
  // A long replay means a slow next start: snapshot soon, once the engine serves again.
  if (replayed > SNAPSHOT_MIN_COMMANDS) setTimeout(() => trySnapshot('after recovery'), 1000).unref()

  const timer = setInterval(() => {
    const stats = engine.stats()
    const threshold = Math.max(SNAPSHOT_MIN_COMMANDS, 2 * (stats.elements + stats.jobs + stats.timers))
    if (store.lastSeq - lastSnapshotSeq >= threshold) trySnapshot('of the periodic check')
  }, SNAPSHOT_CHECK_MS)
  timer.unref()

  return {
    engine,
    store,
    recovery: { snapshotSeq, replayed, ms: Date.now() - started },
    snapshot,
    close: () => {
      clearInterval(timer)
      engine.close()
      // Stopping succeeds even when the snapshot cannot be written: the next start replays the log.
      trySnapshot('at stop')
      store.close()
    },
  }
}
