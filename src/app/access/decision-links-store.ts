/**
 * What the decision links remember, on disk in the data dir (decision-links.db), across restarts:
 * the user tasks whose party was mailed its links (so a restart mails nobody twice), and each link
 * used, with who decided what and when: the trail of decisions made through links.
 */
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { openAppDatabase } from '../../storage/sqlite'

/** 'RCDL' */
const APPLICATION_ID = 0x5243444c

const MIGRATIONS = [
  `CREATE TABLE announced_tasks (
     user_task_key TEXT PRIMARY KEY,
     organisation TEXT NOT NULL,
     announced_at TEXT NOT NULL
   );
   CREATE TABLE used_links (
     nonce TEXT PRIMARY KEY,
     user_task_key TEXT NOT NULL,
     organisation TEXT NOT NULL,
     actor TEXT NOT NULL,
     choice TEXT,
     used_at TEXT NOT NULL
   );`,
]

export class DecisionLinkStoreError extends Error {
  override name = 'DecisionLinkStoreError'
}

/** One decision made through a link: who, for which organisation, what, when. */
export interface LinkDecision {
  userTaskKey: string
  organisation: string
  actor: string
  choice: string | null
  usedAt: string
}

export class DecisionLinkStore {
  private constructor(private readonly db: Database.Database) {}

  static open(dataDir: string): DecisionLinkStore {
    const file = join(dataDir, 'decision-links.db')
    return new DecisionLinkStore(openAppDatabase(file, { applicationId: APPLICATION_ID, name: 'decision link store', migrations: MIGRATIONS, error: DecisionLinkStoreError, createDirectory: true }))
  }

  /** Marks a task's mail as sent to `organisation`; false when it was already. */
  announce(userTaskKey: string, organisation: string, at: string): boolean {
    return this.db.prepare('INSERT INTO announced_tasks (user_task_key, organisation, announced_at) VALUES (?, ?, ?) ON CONFLICT (user_task_key) DO NOTHING').run(userTaskKey, organisation, at).changes > 0
  }

  /** Gives an announcement back when its mail could not be sent, so the next round tries again. */
  forgetAnnouncement(userTaskKey: string): void {
    this.db.prepare('DELETE FROM announced_tasks WHERE user_task_key = ?').run(userTaskKey)
  }

  isAnnounced(userTaskKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM announced_tasks WHERE user_task_key = ?').get(userTaskKey) !== undefined
  }

  /** Records a link's use; false when it was used already (single use). */
  use(nonce: string, decision: LinkDecision): boolean {
    return this.db
      .prepare('INSERT INTO used_links (nonce, user_task_key, organisation, actor, choice, used_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING')
      .run(nonce, decision.userTaskKey, decision.organisation, decision.actor, decision.choice, decision.usedAt).changes > 0
  }

  /** Gives a link back when the engine could not take its decision, so that it may be tried again. */
  release(nonce: string): void {
    this.db.prepare('DELETE FROM used_links WHERE nonce = ?').run(nonce)
  }

  /** Who used a link, and when: the trail of one decision made through a link. */
  usedBy(nonce: string): LinkDecision | undefined {
    const row = this.db.prepare('SELECT user_task_key, organisation, actor, choice, used_at FROM used_links WHERE nonce = ?').get(nonce) as { user_task_key: string; organisation: string; actor: string; choice: string | null; used_at: string } | undefined
    return row === undefined ? undefined : { userTaskKey: row.user_task_key, organisation: row.organisation, actor: row.actor, choice: row.choice, usedAt: row.used_at }
  }

  close(): void {
    this.db.close()
  }
}
