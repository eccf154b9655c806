/**
 * The evidence trail of interconnection cuts (CUT-1..4, CRI-1..3): every cut, each step of it with
 * who and when, and the acknowledgement links already used, in SQLite in the data dir. A crisis
 * cell relies on it afterwards to show who decided what and when.
 *
 * Entries are appended under an idempotency key derived from the job key (or the link), so a job
 * delivered twice appends once.
 */
import { resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { appendStep, openAppDatabase, readSteps, type HistoryTable } from '../../storage/sqlite'

/** File, in the data dir, holding the cuts. */
export const CUT_STORE_FILE = 'interconnection-cuts.db'

/** "RCUT": marks an SQLite file as raccord's cut trail, so a foreign database is refused. */
const APPLICATION_ID = 0x52435554

/**
 * requested: asked for, our side not cut yet; cut: our side is cut; restoring: the crisis cell
 * agreed; restored: both sides are back.
 */
export type CutState = 'requested' | 'cut' | 'restoring' | 'restored'

/** Who cut first: this installation's organisation, or the other party (announced by phone or mail). */
export type CutOrigin = 'self' | 'other-party'

/** One cut, as the trail knows it. */
export interface CutRecord {
  /** e.g. CUT-20250314-7f3a */
  id: string
  interconnectionId: string
  /** id of the service the interconnection carries */
  service: string
  environment: 'preproduction' | 'production'
  /** the organisation at the other end of the interconnection */
  otherParty: string
  origin: CutOrigin
  reason: string
  requestedBy: string
  /** the incident that triggered the cut, if any */
  incidentId?: string
  processInstanceKey?: string
  state: CutState
  requestedAt: string
  updatedAt: string
  restoredAt?: string
}

export type NewCut = Omit<CutRecord, 'state' | 'updatedAt' | 'restoredAt'> & {
  /** The variables its process starts with, kept until its key is stored: a start cut short by a crash is resumed from them. */
  startVariables?: Record<string, unknown>
}

/** One step of a cut's history. */
export interface CutEntry {
  cutId: string
  /** ISO 8601 */
  at: string
  /** who did it: a person, a team, or `raccord` for automatic steps */
  actor: string
  /** e.g. cut-requested, interconnection-disabled, notification-sent, acknowledged, crisis-decision */
  event: string
  detail: Record<string, unknown>
  messageId?: string
}

export interface NewCutEntry extends CutEntry {
  idempotencyKey: string
}

/** The cut file cannot be used. */
export class CutStoreError extends Error {
  override name = 'CutStoreError'
}

/** The cut is not in the trail. */
export class UnknownCutError extends Error {
  override name = 'UnknownCutError'
  constructor(readonly cutId: string) {
    super(`Unknown interconnection cut '${cutId}'`)
  }
}

interface CutRow {
  id: string
  interconnection_id: string
  service: string
  environment: 'preproduction' | 'production'
  other_party: string
  origin: CutOrigin
  reason: string
  requested_by: string
  incident_id: string | null
  process_instance_key: string | null
  state: Exclude<CutState, 'requested'>
  requested_at: string
  updated_at: string
  restored_at: string | null
  our_side_cut_at: string | null
}

const MIGRATIONS: string[] = [
  `CREATE TABLE cuts (
     id TEXT PRIMARY KEY,
     interconnection_id TEXT NOT NULL,
     service TEXT NOT NULL,
     environment TEXT NOT NULL,
     other_party TEXT NOT NULL,
     origin TEXT NOT NULL CHECK (origin IN ('self', 'other-party')),
     reason TEXT NOT NULL,
     requested_by TEXT NOT NULL,
     incident_id TEXT,
     process_instance_key TEXT,
     state TEXT NOT NULL CHECK (state IN ('cut', 'restoring', 'restored')),
     requested_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     restored_at TEXT
   );
   CREATE TABLE cut_entries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     cut_id TEXT NOT NULL REFERENCES cuts(id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     event TEXT NOT NULL,
     detail TEXT NOT NULL,
     message_id TEXT,
     idempotency_key TEXT NOT NULL UNIQUE
   );
   CREATE INDEX cut_entries_by_cut ON cut_entries (cut_id, seq);
   CREATE TABLE used_links (
     nonce TEXT PRIMARY KEY,
     cut_id TEXT NOT NULL,
     purpose TEXT NOT NULL,
     used_at TEXT NOT NULL
   );`,
  'ALTER TABLE cuts ADD COLUMN pending_start TEXT;',
  // When our side was cut: until then the cut reads "requested". Cuts recorded before count as cut.
  'ALTER TABLE cuts ADD COLUMN our_side_cut_at TEXT; UPDATE cuts SET our_side_cut_at = requested_at;',
]

const ENTRIES: HistoryTable = { table: 'cut_entries', ownerTable: 'cuts', ownerColumn: 'cut_id' }

export class CutStore {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  /** Opens (or creates) the cut trail in `dataDir`. Throws CutStoreError. */
  static open(dataDir: string): CutStore {
    const file = resolve(dataDir, CUT_STORE_FILE)
    return new CutStore(openAppDatabase(file, { applicationId: APPLICATION_ID, name: 'interconnection cut trail', migrations: MIGRATIONS, error: CutStoreError, createDirectory: true }), file)
  }

  /** Records a new cut; a cut with this id already there is left as it is. Returns it. */
  openCut(cut: NewCut): CutRecord {
    this.db
      .prepare(
        `INSERT INTO cuts (id, interconnection_id, service, environment, other_party, origin, reason, requested_by, incident_id,
           process_instance_key, state, requested_at, updated_at, pending_start)
         VALUES (@id, @interconnectionId, @service, @environment, @otherParty, @origin, @reason, @requestedBy, @incidentId,
           @processInstanceKey, 'cut', @requestedAt, @requestedAt, @pendingStart)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run({ ...cut, incidentId: cut.incidentId ?? null, processInstanceKey: cut.processInstanceKey ?? null,
        pendingStart: cut.startVariables === undefined ? null : JSON.stringify(cut.startVariables), startVariables: undefined })
    return this.requireCut(cut.id)
  }

  cut(id: string): CutRecord | undefined {
    const row = this.db.prepare('SELECT * FROM cuts WHERE id = ?').get(id) as CutRow | undefined
    return row && toCut(row)
  }

  requireCut(id: string): CutRecord {
    const found = this.cut(id)
    if (found === undefined) throw new UnknownCutError(id)
    return found
  }

  /** Every cut, the most recent first. */
  cuts(): CutRecord[] {
    return (this.db.prepare('SELECT * FROM cuts ORDER BY requested_at DESC, id DESC').all() as CutRow[]).map(toCut)
  }

  /** The latest cut of this interconnection that is not restored yet (cut or restoring), if any. */
  openCutOf(interconnectionId: string): CutRecord | undefined {
    const row = this.db
      .prepare(`SELECT * FROM cuts WHERE interconnection_id = ? AND state != 'restored' ORDER BY requested_at DESC, id DESC LIMIT 1`)
      .get(interconnectionId) as CutRow | undefined
    return row && toCut(row)
  }

  setProcessInstanceKey(id: string, processInstanceKey: string): void {
    const result = this.db.prepare('UPDATE cuts SET process_instance_key = ?, pending_start = NULL WHERE id = ?').run(processInstanceKey, id)
    if (result.changes === 0) throw new UnknownCutError(id)
  }

  /** Cuts recorded whose process start was cut short: no key yet, and the variables to start it with. */
  pendingStarts(): Array<{ id: string; variables: Record<string, unknown> }> {
    const rows = this.db.prepare('SELECT id, pending_start FROM cuts WHERE process_instance_key IS NULL AND pending_start IS NOT NULL').all() as Array<{ id: string; pending_start: string }>
    return rows.map((row) => ({ id: row.id, variables: JSON.parse(row.pending_start) as Record<string, unknown> }))
  }

  /** Our side is cut: the cut no longer reads "requested". Recording it again changes nothing. */
  markOurSideCut(id: string, at: string): void {
    const result = this.db.prepare('UPDATE cuts SET our_side_cut_at = COALESCE(our_side_cut_at, @at), updated_at = CASE WHEN our_side_cut_at IS NULL THEN @at ELSE updated_at END WHERE id = @id').run({ id, at })
    if (result.changes === 0) throw new UnknownCutError(id)
  }

  /** Moves the cut forward; it never goes back from restored. */
  setState(id: string, state: Exclude<CutState, 'cut' | 'requested'>, at: string): void {
    const current = this.requireCut(id)
    if (current.state === 'restored' || current.state === state) return
    this.db
      .prepare(`UPDATE cuts SET state = @state, updated_at = @at${state === 'restored' ? ', restored_at = @at' : ''} WHERE id = @id`)
      .run({ id, state, at })
  }

  /** Appends an entry unless its idempotency key is there already; true when it was appended. */
  append(entry: NewCutEntry): boolean {
    this.requireCut(entry.cutId)
    return appendStep(this.db, ENTRIES, entry.cutId, entry)
  }

  /** The cut's history in the order it was appended. */
  entries(cutId: string): CutEntry[] {
    return readSteps(this.db, ENTRIES, cutId).map((step) => ({ cutId, ...step }))
  }

  /**
   * Marks a link's nonce as used, atomically: true the first time, false on every replay. A link
   * is single-use whatever the process does with it afterwards.
   */
  useLink(nonce: string, cutId: string, purpose: string, at: string): boolean {
    const result = this.db.prepare('INSERT INTO used_links (nonce, cut_id, purpose, used_at) VALUES (?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING').run(nonce, cutId, purpose, at)
    return result.changes > 0
  }

  /** Gives a link back when what it triggered could not be done, so that it may be tried again. */
  releaseLink(nonce: string): void {
    this.db.prepare('DELETE FROM used_links WHERE nonce = ?').run(nonce)
  }

  isLinkUsed(nonce: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_links WHERE nonce = ?').get(nonce) !== undefined
  }

  close(): void {
    this.db.close()
  }
}

function toCut(row: CutRow): CutRecord {
  return {
    id: row.id,
    interconnectionId: row.interconnection_id,
    service: row.service,
    environment: row.environment,
    otherParty: row.other_party,
    origin: row.origin,
    reason: row.reason,
    requestedBy: row.requested_by,
    ...(row.incident_id === null ? {} : { incidentId: row.incident_id }),
    ...(row.process_instance_key === null ? {} : { processInstanceKey: row.process_instance_key }),
    state: row.state === 'cut' && row.our_side_cut_at === null ? 'requested' : row.state,
    requestedAt: row.requested_at,
    updatedAt: row.updated_at,
    ...(row.restored_at === null ? {} : { restoredAt: row.restored_at }),
  }
}
