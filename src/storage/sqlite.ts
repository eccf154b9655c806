/**
 * Opening one of raccord's own SQLite files in the data dir (the incident trace, the cut trail,
 * the security trace, the status page): the file is marked with an application id so that a
 * foreign database is refused, and its schema is brought up to date in one transaction.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/** How to open one of raccord's SQLite files, and what to say when it cannot be used. */
export interface AppDatabaseOptions {
  /** SQLite `application_id` marking the file as this store's */
  applicationId: number
  /** what the file holds, as error messages name it, e.g. `incident trace` */
  name: string
  /** `migrations[v]` takes the schema from version v to v + 1; the schema version is their count */
  migrations: readonly string[]
  /** the store's error type: every failure is thrown as one */
  error: new (message: string, options?: ErrorOptions) => Error
  /** create the file's directory when it is missing */
  createDirectory?: boolean
}

/** Opens (or creates) `file`, checked and migrated, in WAL mode with foreign keys on. Throws `options.error`. */
export function openAppDatabase(file: string, options: AppDatabaseOptions): Database.Database {
  const { applicationId, name, migrations, error: StoreError } = options
  const schemaVersion = migrations.length
  let db: Database.Database
  try {
    if (options.createDirectory) mkdirSync(dirname(file), { recursive: true })
    db = new Database(file)
  } catch (error) {
    throw new StoreError(`Cannot open the ${name} '${file}': ${(error as Error).message}`, { cause: error })
  }
  try {
    const hasTables = (db.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get() as { n: number }).n > 0
    const appId = db.pragma('application_id', { simple: true }) as number
    const version = db.pragma('user_version', { simple: true }) as number
    if (hasTables && appId !== applicationId) throw new StoreError(`'${file}' is an SQLite database that raccord did not create; refusing to touch it`)
    if (version > schemaVersion) throw new StoreError(`'${file}' has schema version ${version}, newer than this raccord (${schemaVersion}); upgrade raccord`)
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.transaction(() => {
      for (let v = version; v < schemaVersion; v++) db.exec(migrations[v])
      db.pragma(`application_id = ${applicationId}`)
      db.pragma(`user_version = ${schemaVersion}`)
    })()
  } catch (error) {
    db.close()
    if (error instanceof StoreError) throw error
    throw new StoreError(`Cannot use the ${name} '${file}': ${(error as Error).message}`, { cause: error })
  }
  return db
}

/**
 * A history table: the steps of one row of `ownerTable`, each appended once per idempotency key,
 * with columns seq, `ownerColumn`, at, actor, event, detail (JSON), message_id, idempotency_key.
 */
export interface HistoryTable {
  table: string
  ownerTable: string
  ownerColumn: string
}

/** One step of a history, without its owner. */
export interface HistoryStep {
  /** ISO 8601 */
  at: string
  actor: string
  event: string
  detail: Record<string, unknown>
  /** the Message-ID of the mail this step sent */
  messageId?: string
}

interface StepRow {
  at: string
  actor: string
  event: string
  detail: string
  message_id: string | null
}

/** Appends a step unless its idempotency key is there already, and moves the owner's updated_at; true when it was appended. */
export function appendStep(db: Database.Database, history: HistoryTable, ownerId: string, step: HistoryStep & { idempotencyKey: string }): boolean {
  const result = db
    .prepare(
      `INSERT INTO ${history.table} (${history.ownerColumn}, at, actor, event, detail, message_id, idempotency_key)
       VALUES (@ownerId, @at, @actor, @event, @detail, @messageId, @idempotencyKey)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    )
    .run({ ownerId, at: step.at, actor: step.actor, event: step.event, detail: JSON.stringify(step.detail), messageId: step.messageId ?? null, idempotencyKey: step.idempotencyKey })
  if (result.changes > 0) db.prepare(`UPDATE ${history.ownerTable} SET updated_at = max(updated_at, @at) WHERE id = @id`).run({ id: ownerId, at: step.at })
  return result.changes > 0
}

/** The owner's steps in the order they were appended. */
export function readSteps(db: Database.Database, history: HistoryTable, ownerId: string): HistoryStep[] {
  const rows = db.prepare(`SELECT at, actor, event, detail, message_id FROM ${history.table} WHERE ${history.ownerColumn} = ? ORDER BY seq`).all(ownerId) as StepRow[]
  return rows.map((row) => ({
    at: row.at,
    actor: row.actor,
    event: row.event,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    ...(row.message_id === null ? {} : { messageId: row.message_id }),
  }))
}
