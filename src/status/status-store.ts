/**
 * What end users are told (USR-1): notices on components, each with its updates, kept for good
 * in SQLite in the data dir, so the status page shows history as well as the present.
 *
 * The vocabulary is Statuspage's: notice states investigating, identified, monitoring, resolved;
 * impact none, minor, major, critical; component states operational ... major_outage.
 */
import { resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { openAppDatabase } from '../storage/sqlite'

/** File, in the data dir, holding the status page's notices. */
export const STATUS_STORE_FILE = 'status.db'

/** "RSTA" */
const APPLICATION_ID = 0x52535441

export const NOTICE_STATES = ['investigating', 'identified', 'monitoring', 'resolved'] as const
export type NoticeState = (typeof NOTICE_STATES)[number]
export const IMPACTS = ['none', 'minor', 'major', 'critical'] as const
export type Impact = (typeof IMPACTS)[number]
export const COMPONENT_STATES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const
export type ComponentState = (typeof COMPONENT_STATES)[number]

/** A notice on one component: a cut, a P1 incident, a service opened. */
export interface Notice {
  /** e.g. cut:CUT-20250314-7f3a, incident:INC-20250314-1a2b */
  id: string
  /** id of a configured service */
  component: string
  title: string
  impact: Impact
  /** what the component shows while the notice is open */
  componentState: ComponentState
  state: NoticeState
  createdAt: string
  updatedAt: string
  resolvedAt?: string
}

export interface NoticeUpdate {
  noticeId: string
  state: NoticeState
  /** what end users read */
  body: string
  at: string
}

export class StatusStoreError extends Error {
  override name = 'StatusStoreError'
}

interface NoticeRow {
  id: string
  component: string
  title: string
  impact: Impact
  component_state: ComponentState
  state: NoticeState
  created_at: string
  updated_at: string
  resolved_at: string | null
}

interface UpdateRow {
  notice_id: string
  state: NoticeState
  body: string
  at: string
}

const MIGRATIONS: string[] = [
  `CREATE TABLE notices (
     id TEXT PRIMARY KEY,
     component TEXT NOT NULL,
     title TEXT NOT NULL,
     impact TEXT NOT NULL,
     component_state TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     resolved_at TEXT
   );
   CREATE TABLE notice_updates (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     notice_id TEXT NOT NULL REFERENCES notices(id),
     state TEXT NOT NULL,
     body TEXT NOT NULL,
     at TEXT NOT NULL,
     idempotency_key TEXT NOT NULL UNIQUE
   );
   CREATE INDEX notice_updates_by_notice ON notice_updates (notice_id, seq);`,
]

export class StatusStore {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  static open(dataDir: string): StatusStore {
    const file = resolve(dataDir, STATUS_STORE_FILE)
    return new StatusStore(openAppDatabase(file, { applicationId: APPLICATION_ID, name: 'status page store', migrations: MIGRATIONS, error: StatusStoreError, createDirectory: true }), file)
  }

  /**
   * Opens a notice with its first update, or, when it is open already, adds nothing. The
   * idempotency key makes a redelivered job publish once.
   */
  open(notice: Omit<Notice, 'state' | 'updatedAt' | 'resolvedAt'> & { state: Exclude<NoticeState, 'resolved'>; body: string; idempotencyKey: string }): Notice {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO notices (id, component, title, impact, component_state, state, created_at, updated_at)
           VALUES (@id, @component, @title, @impact, @componentState, @state, @createdAt, @createdAt)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(notice)
      this.addUpdate({ noticeId: notice.id, state: notice.state, body: notice.body, at: notice.createdAt }, notice.idempotencyKey)
    })()
    return this.requireNotice(notice.id)
  }

  /**
   * Publishes news that needs no follow-up, such as a service newly opened on the portal: a notice
   * of no impact, resolved as it is published, so it shows in the history and the feed without
   * touching any component's state. Publishing it again adds nothing.
   */
  announce(announcement: { id: string; component: string; title: string; body: string; at: string; idempotencyKey: string }): Notice {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO notices (id, component, title, impact, component_state, state, created_at, updated_at, resolved_at)
           VALUES (@id, @component, @title, 'none', 'operational', 'resolved', @at, @at, @at)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(announcement)
      this.addUpdate({ noticeId: announcement.id, state: 'resolved', body: announcement.body, at: announcement.at }, announcement.idempotencyKey)
    })()
    return this.requireNotice(announcement.id)
  }

  /** Moves a notice to a new state with what users should read; `resolved` closes it. Unknown notices are ignored: false. */
  update(update: NoticeUpdate & { idempotencyKey: string }): boolean {
    const notice = this.notice(update.noticeId)
    if (notice === undefined || notice.state === 'resolved') return false
    this.db.transaction(() => {
      if (!this.addUpdate(update, update.idempotencyKey)) return
      this.db
        .prepare(`UPDATE notices SET state = @state, updated_at = @at${update.state === 'resolved' ? ', resolved_at = @at' : ''} WHERE id = @noticeId`)
        .run(update)
    })()
    return true
  }

  notice(id: string): Notice | undefined {
    const row = this.db.prepare('SELECT * FROM notices WHERE id = ?').get(id) as NoticeRow | undefined
    return row && toNotice(row)
  }

  /** Every notice, the most recent first; `open` keeps the unresolved ones, `resolved` the others. */
  notices(filter: 'all' | 'open' | 'resolved' = 'all', limit = 200): Notice[] {
    const where = filter === 'open' ? "WHERE state != 'resolved'" : filter === 'resolved' ? "WHERE state = 'resolved'" : ''
    return (this.db.prepare(`SELECT * FROM notices ${where} ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as NoticeRow[]).map(toNotice)
  }

  /** A notice's updates, the most recent first. */
  updates(noticeId: string): NoticeUpdate[] {
    return (this.db.prepare('SELECT notice_id, state, body, at FROM notice_updates WHERE notice_id = ? ORDER BY seq DESC').all(noticeId) as UpdateRow[]).map(toUpdate)
  }

  /** The latest updates over every notice, the most recent first: the Atom feed. */
  recentUpdates(limit = 50): NoticeUpdate[] {
    return (this.db.prepare('SELECT notice_id, state, body, at FROM notice_updates ORDER BY seq DESC LIMIT ?').all(limit) as UpdateRow[]).map(toUpdate)
  }

  close(): void {
    this.db.close()
  }

  private requireNotice(id: string): Notice {
    const found = this.notice(id)
    if (found === undefined) throw new StatusStoreError(`Notice '${id}' vanished`)
    return found
  }

  private addUpdate(update: NoticeUpdate, idempotencyKey: string): boolean {
    const result = this.db
      .prepare('INSERT INTO notice_updates (notice_id, state, body, at, idempotency_key) VALUES (@noticeId, @state, @body, @at, @idempotencyKey) ON CONFLICT (idempotency_key) DO NOTHING')
      .run({ ...update, idempotencyKey })
    return result.changes > 0
  }
}

function toNotice(row: NoticeRow): Notice {
  return {
    id: row.id,
    component: row.component,
    title: row.title,
    impact: row.impact,
    componentState: row.component_state,
    state: row.state,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.resolved_at === null ? {} : { resolvedAt: row.resolved_at }),
  }
}

function toUpdate(row: UpdateRow): NoticeUpdate {
  return { noticeId: row.notice_id, state: row.state, body: row.body, at: row.at }
}
