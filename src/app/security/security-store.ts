/**
 * The security trace (SEC-1..4, TRC-1..3): security watch reviews, vulnerabilities and trace
 * requests, each with the history of what happened to it, who did it, when, and which mail or
 * letter went out. It lives in its own SQLite file beside the incident trace.
 *
 * Entries are appended under an idempotency key derived from the job key, so a job delivered
 * twice appends once.
 */
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { appendStep, openAppDatabase, readSteps, type HistoryTable } from '../../storage/sqlite'

/** File, in the data dir, holding the security trace. */
export const SECURITY_STORE_FILE = 'security.db'

/** "RCSE": marks an SQLite file as raccord's security trace, so a foreign database is refused. */
const APPLICATION_ID = 0x52435345

/** What a record is. */
export type RecordKind = 'watch-review' | 'vulnerability' | 'trace-request'

/** One review, vulnerability or trace request; `data` holds its facts, by kind. */
export interface SecurityRecord<D = Record<string, unknown>> {
  /** WATCH-..., VUL-..., TRQ-... */
  id: string
  kind: RecordKind
  /** e.g. open, fixed, refused, dispatched, answered */
  state: string
  data: D
  processInstanceKey?: string
  createdAt: string
  updatedAt: string
}

/** One step of a record's history. */
export interface SecurityEvent {
  recordId: string
  /** ISO 8601 */
  at: string
  /** a person, a team, or `raccord` for automatic steps */
  actor: string
  event: string
  detail: Record<string, unknown>
  /** the Message-ID of the mail this step sent */
  messageId?: string
}

/** An event to append; the same idempotency key appends once. */
export interface NewSecurityEvent extends SecurityEvent {
  idempotencyKey: string
}

/** The security trace file cannot be used. */
export class SecurityStoreError extends Error {
  override name = 'SecurityStoreError'
}

/** No record has this id. */
export class UnknownRecordError extends Error {
  override name = 'UnknownRecordError'
  constructor(readonly recordId: string) {
    super(`Unknown record '${recordId}'`)
  }
}

interface RecordRow {
  id: string
  kind: RecordKind
  state: string
  data: string
  process_instance_key: string | null
  created_at: string
  updated_at: string
}

const MIGRATIONS: string[] = [
  `CREATE TABLE security_records (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('watch-review', 'vulnerability', 'trace-request')),
     state TEXT NOT NULL,
     data TEXT NOT NULL,
     process_instance_key TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX security_records_by_kind ON security_records (kind, created_at);
   CREATE INDEX security_records_by_instance ON security_records (process_instance_key);
   CREATE TABLE security_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     record_id TEXT NOT NULL REFERENCES security_records(id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     event TEXT NOT NULL,
     detail TEXT NOT NULL,
     message_id TEXT,
     idempotency_key TEXT NOT NULL UNIQUE
   );
   CREATE INDEX security_events_by_record ON security_events (record_id, seq);`,
]

const EVENTS: HistoryTable = { table: 'security_events', ownerTable: 'security_records', ownerColumn: 'record_id' }

export class SecurityStore {
  private constructor(
    private readonly db: Database.Database,
    /** absolute path of the SQLite file */
    readonly file: string,
  ) {}

  /** Opens (or creates) the security trace in `dataDir`. Throws SecurityStoreError. */
  static open(dataDir: string): SecurityStore {
    const file = join(dataDir, SECURITY_STORE_FILE)
    return new SecurityStore(openAppDatabase(file, { applicationId: APPLICATION_ID, name: 'security trace', migrations: MIGRATIONS, error: SecurityStoreError }), file)
  }

  /** Records a new record; one with this id already there is left as it is. Returns it. */
  create<D extends object>(record: { id: string; kind: RecordKind; state: string; data: D; processInstanceKey?: string; at: string }): SecurityRecord<D> {
    this.db
      .prepare(
        `INSERT INTO security_records (id, kind, state, data, process_instance_key, created_at, updated_at)
         VALUES (@id, @kind, @state, @data, @processInstanceKey, @at, @at) ON CONFLICT (id) DO NOTHING`,
      )
      .run({ id: record.id, kind: record.kind, state: record.state, data: JSON.stringify(record.data), processInstanceKey: record.processInstanceKey ?? null, at: record.at })
    return this.require<D>(record.id)
  }

  /** Forgets a record that has no history yet (its process could not start). */
  discard(id: string): void {
    this.db.prepare('DELETE FROM security_records WHERE id = ? AND NOT EXISTS (SELECT 1 FROM security_events WHERE record_id = ?)').run(id, id)
  }

  get<D = Record<string, unknown>>(id: string): SecurityRecord<D> | undefined {
    const row = this.db.prepare('SELECT * FROM security_records WHERE id = ?').get(id) as RecordRow | undefined
    return row && toRecord<D>(row)
  }

  require<D = Record<string, unknown>>(id: string): SecurityRecord<D> {
    const found = this.get<D>(id)
    if (found === undefined) throw new UnknownRecordError(id)
    return found
  }

  /** The record a process instance works on, of this kind. */
  byProcessInstance<D = Record<string, unknown>>(kind: RecordKind, processInstanceKey: string): SecurityRecord<D> | undefined {
    const row = this.db.prepare('SELECT * FROM security_records WHERE kind = ? AND process_instance_key = ?').get(kind, processInstanceKey) as RecordRow | undefined
    return row && toRecord<D>(row)
  }

  /** Records of a kind, the most recent first. */
  list<D = Record<string, unknown>>(kind: RecordKind): Array<SecurityRecord<D>> {
    return (this.db.prepare('SELECT * FROM security_records WHERE kind = ? ORDER BY created_at DESC, id DESC').all(kind) as RecordRow[]).map((row) => toRecord<D>(row))
  }

  /** Merges `data` into the record's facts, and moves its state when given. */
  update(id: string, change: { state?: string; data?: Record<string, unknown>; processInstanceKey?: string; at: string }): void {
    const current = this.require(id)
    this.db
      .prepare('UPDATE security_records SET state = @state, data = @data, process_instance_key = @key, updated_at = max(updated_at, @at) WHERE id = @id')
      .run({
        id,
        state: change.state ?? current.state,
        data: JSON.stringify({ ...current.data, ...change.data }),
        key: change.processInstanceKey ?? current.processInstanceKey ?? null,
        at: change.at,
      })
  }

  /** Appends an event unless its idempotency key is there already; true when it was appended. */
  append(event: NewSecurityEvent): boolean {
    this.require(event.recordId)
    return appendStep(this.db, EVENTS, event.recordId, event)
  }

  /** The record's history in the order it was appended. */
  events(recordId: string): SecurityEvent[] {
    return readSteps(this.db, EVENTS, recordId).map((step) => ({ recordId, ...step }))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

function toRecord<D>(row: RecordRow): SecurityRecord<D> {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    data: JSON.parse(row.data) as D,
    ...(row.process_instance_key === null ? {} : { processInstanceKey: row.process_instance_key }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
