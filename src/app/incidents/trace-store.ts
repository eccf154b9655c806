/**
 * The incident trace (INC-2): every incident and the history of what happened to it, who did it,
 * when, and which mail went out, in SQLite in the data dir.
 *
 * Entries are appended under an idempotency key derived from the job key, so a job delivered
 * twice appends once.
 */
import { resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { appendStep, openAppDatabase, readSteps, type HistoryTable } from '../../storage/sqlite'

/** File, in the data dir, holding the trace. */
export const TRACE_STORE_FILE = 'raccord.db'

/** "RCTR": marks an SQLite file as raccord's trace, so a foreign database is refused. */
const APPLICATION_ID = 0x52435452

/** open: declared, service not yet restored; restored: workaround or fix in place; closed: root cause recorded. */
export type IncidentState = 'open' | 'restored' | 'closed'

/** One incident, as the trace knows it. */
export interface IncidentRecord {
  /** e.g. INC-20250314-7f3a */
  id: string
  title: string
  description?: string
  /** id of a service in the configuration */
  service: string
  impact: string
  urgency: string
  /** P1..P4, once the decision has run */
  priority?: string
  reportingOrganisation: string
  declaredBy: string
  processInstanceKey?: string
  state: IncidentState
  declaredAt: string
  updatedAt: string
  restoredAt?: string
  closedAt?: string
}

/** What is needed to open an incident. */
export type NewIncident = Pick<IncidentRecord, 'id' | 'title' | 'service' | 'impact' | 'urgency' | 'reportingOrganisation' | 'declaredBy' | 'declaredAt'> &
  Partial<Pick<IncidentRecord, 'description' | 'processInstanceKey' | 'priority'>> & {
    /** The variables its process starts with, kept until its key is stored: a start cut short by a crash is resumed from them. */
    startVariables?: Record<string, unknown>
  }

/** One step of an incident's history. */
export interface TraceEntry {
  incidentId: string
  /** ISO 8601 */
  at: string
  /** who did it: a person, a team, or `raccord` for automatic steps */
  actor: string
  /** what happened, e.g. incident-declared, notification-sent, incident-closed */
  event: string
  detail: Record<string, unknown>
  /** the Message-ID of the mail this step sent */
  messageId?: string
}

/** An entry to append; the same idempotency key appends once. */
export interface NewTraceEntry extends TraceEntry {
  idempotencyKey: string
}

/** The trace file cannot be used. */
export class TraceStoreError extends Error {
  override name = 'TraceStoreError'
}

/** The incident is not in the trace. */
export class UnknownIncidentError extends Error {
  override name = 'UnknownIncidentError'
  constructor(readonly incidentId: string) {
    super(`Unknown incident '${incidentId}'`)
  }
}

interface IncidentRow {
  id: string
  title: string
  description: string | null
  service: string
  impact: string
  urgency: string
  priority: string | null
  reporting_organisation: string
  declared_by: string
  process_instance_key: string | null
  state: IncidentState
  declared_at: string
  updated_at: string
  restored_at: string | null
  closed_at: string | null
}

const MIGRATIONS: string[] = [
  `CREATE TABLE incidents (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     description TEXT,
     service TEXT NOT NULL,
     impact TEXT NOT NULL,
     urgency TEXT NOT NULL,
     priority TEXT,
     reporting_organisation TEXT NOT NULL,
     declared_by TEXT NOT NULL,
     process_instance_key TEXT,
     state TEXT NOT NULL CHECK (state IN ('open', 'restored', 'closed')),
     declared_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     restored_at TEXT,
     closed_at TEXT
   );
   CREATE TABLE trace_entries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     incident_id TEXT NOT NULL REFERENCES incidents(id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     event TEXT NOT NULL,
     detail TEXT NOT NULL,
     message_id TEXT,
     idempotency_key TEXT NOT NULL UNIQUE
   );
   CREATE INDEX trace_entries_by_incident ON trace_entries (incident_id, seq);`,
  'ALTER TABLE incidents ADD COLUMN pending_start TEXT;',
]

const ENTRIES: HistoryTable = { table: 'trace_entries', ownerTable: 'incidents', ownerColumn: 'incident_id' }

export class TraceStore {
  private constructor(
    private readonly db: Database.Database,
    /** absolute path of the SQLite file */
    readonly file: string,
  ) {}

  /** Opens (or creates) the trace in `dataDir`. Throws TraceStoreError. */
  static open(dataDir: string): TraceStore {
    const file = resolve(dataDir, TRACE_STORE_FILE)
    return new TraceStore(openAppDatabase(file, { applicationId: APPLICATION_ID, name: 'incident trace', migrations: MIGRATIONS, error: TraceStoreError, createDirectory: true }), file)
  }

  /** Records a new incident; an incident with this id already there is left as it is. Returns it. */
  openIncident(incident: NewIncident): IncidentRecord {
    this.db
      .prepare(
        `INSERT INTO incidents (id, title, description, service, impact, urgency, priority, reporting_organisation, declared_by,
           process_instance_key, state, declared_at, updated_at, pending_start)
         VALUES (@id, @title, @description, @service, @impact, @urgency, @priority, @reportingOrganisation, @declaredBy,
           @processInstanceKey, 'open', @declaredAt, @declaredAt, @pendingStart)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run({ ...incident, description: incident.description ?? null, processInstanceKey: incident.processInstanceKey ?? null, priority: incident.priority ?? null,
        pendingStart: incident.startVariables === undefined ? null : JSON.stringify(incident.startVariables), startVariables: undefined })
    return this.requireIncident(incident.id)
  }

  /** Forgets an incident that has no history yet (its process could not start). */
  discardIncident(id: string): void {
    this.db.prepare('DELETE FROM incidents WHERE id = ? AND NOT EXISTS (SELECT 1 FROM trace_entries WHERE incident_id = ?)').run(id, id)
  }

  incident(id: string): IncidentRecord | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined
    return row && toIncident(row)
  }

  requireIncident(id: string): IncidentRecord {
    const found = this.incident(id)
    if (found === undefined) throw new UnknownIncidentError(id)
    return found
  }

  /** Every incident, the most recently declared first. */
  incidents(): IncidentRecord[] {
    return (this.db.prepare('SELECT * FROM incidents ORDER BY declared_at DESC, id DESC').all() as IncidentRow[]).map(toIncident)
  }

  setProcessInstanceKey(id: string, processInstanceKey: string): void {
    this.update(id, 'process_instance_key = @value, pending_start = NULL', processInstanceKey)
  }

  /** Incidents recorded whose process start was cut short: no key yet, and the variables to start it with. */
  pendingStarts(): Array<{ id: string; variables: Record<string, unknown> }> {
    const rows = this.db.prepare('SELECT id, pending_start FROM incidents WHERE process_instance_key IS NULL AND pending_start IS NOT NULL').all() as Array<{ id: string; pending_start: string }>
    return rows.map((row) => ({ id: row.id, variables: JSON.parse(row.pending_start) as Record<string, unknown> }))
  }

  setPriority(id: string, priority: string): void {
    this.update(id, 'priority = @value', priority)
  }

  /** Moves the incident forward; it never goes back from closed, nor from restored to open. */
  setState(id: string, state: Exclude<IncidentState, 'open'>, at: string): void {
    const current = this.requireIncident(id)
    if (current.state === 'closed' || current.state === state) return
    const column = state === 'restored' ? 'restored_at' : 'closed_at'
    this.db.prepare(`UPDATE incidents SET state = @state, ${column} = @at, updated_at = @at WHERE id = @id`).run({ id, state, at })
  }

  /** Appends an entry unless its idempotency key is there already; true when it was appended. */
  append(entry: NewTraceEntry): boolean {
    this.requireIncident(entry.incidentId)
    return appendStep(this.db, ENTRIES, entry.incidentId, entry)
  }

  /** The incident's history in the order it was appended. */
  entries(incidentId: string): TraceEntry[] {
    return readSteps(this.db, ENTRIES, incidentId).map((step) => ({ incidentId, ...step }))
  }

  close(): void {
    this.db.close()
  }

  private update(id: string, assignment: string, value: string): void {
    const result = this.db.prepare(`UPDATE incidents SET ${assignment} WHERE id = @id`).run({ id, value })
    if (result.changes === 0) throw new UnknownIncidentError(id)
  }
}

function toIncident(row: IncidentRow): IncidentRecord {
  const optional = <K extends string>(key: K, value: string | null) => (value === null ? {} : ({ [key]: value } as Record<K, string>))
  return {
    id: row.id,
    title: row.title,
    ...optional('description', row.description),
    service: row.service,
    impact: row.impact,
    urgency: row.urgency,
    ...optional('priority', row.priority),
    reportingOrganisation: row.reporting_organisation,
    declaredBy: row.declared_by,
    ...optional('processInstanceKey', row.process_instance_key),
    state: row.state,
    declaredAt: row.declared_at,
    updatedAt: row.updated_at,
    ...optional('restoredAt', row.restored_at),
    ...optional('closedAt', row.closed_at),
  }
}
