/**
 * The decision links of the other party: their store and signing secret in the data dir (the
 * secret made once, 0600, so links mailed before a restart keep working), the engine through the
 * public API, and the round that mails each new task of the other party its links.
 */
import type { Camunda8 } from '@camunda8/sdk'
import type { Logger } from 'pino'
import type { Config } from '../config'
import type { Mailer } from '../notify'
import { ConsoleEngine, type EngineFailure } from '../engine-client/console-engine'
import { persistentSecret } from '../app/access/persistent-secret'
import { DecisionLinkRefusedError, DecisionLinkService, DecisionLinkSigner, type DecisionEngine, type DomainCompletion } from '../app/access/decision-links'
import { NotYourTaskError, TaskSubmissionError } from '../app/access/task-gate'
import { crisisDecisionSchema, CutConflictError, CutForbiddenError, type CutService } from '../app/cuts/cuts'
import { DecisionLinkStore } from '../app/access/decision-links-store'
import { startDecisionMail } from '../app/access/decision-links-mail'

/** The name of the signing secret's file in the data dir's secrets. */
export const DECISION_LINK_SECRET = 'decision-link-secret'

export interface DecisionLinksOptions {
  config: Config
  camunda: Camunda8
  dataDir: string
  mailer: Pick<Mailer, 'send'>
  publicUrl(): string
  logger: Pick<Logger, 'warn'>
  /** the crisis-cell decisions (CRI-3): a member's link records that member's agreement */
  cuts: Pick<CutService, 'decide'>
  /** between two reads of the open tasks */
  intervalMs?: number
}

/**
 * A crisis-cell member's link records that member's own agreement, as a credential of theirs would
 * (CRI-3): the meeting is recorded once a member of each party agreed. Who decided is the link's
 * addressee, never a field.
 */
export function crisisCompletion(cuts: Pick<CutService, 'decide'>): DomainCompletion {
  return async (task, variables, data, addressee) => {
    const caller = { name: 'decision-link', organisation: addressee.organisation, actor: addressee.actor, person: { name: addressee.name, email: addressee.email } }
    try {
      await cuts.decide(String(data.cutId), crisisDecisionSchema.parse(variables), caller)
    } catch (error) {
      if (error instanceof CutForbiddenError) throw new NotYourTaskError(error.message)
      // The one conflict a member can correct: a meeting dated in the future.
      if (error instanceof CutConflictError && error.message.startsWith('heldAt:')) throw new TaskSubmissionError([{ field: 'heldAt', detail: error.message.slice('heldAt: '.length) }])
      if (error instanceof CutConflictError) throw new DecisionLinkRefusedError('closed')
      throw error
    }
  }
}

/** The engine's error as it is: the link service reads its HTTP status. */
const asIs: EngineFailure = (error) => (error instanceof Error ? error : new Error(String(error)))

export function openDecisionLinks(options: DecisionLinksOptions): { links: DecisionLinkService; start(): void; close(): Promise<void> } {
  const store = DecisionLinkStore.open(options.dataDir)
  const tasks = new ConsoleEngine(options.camunda, asIs)
  const engine: DecisionEngine = {
    openUserTasks: () => tasks.userTasks({ state: 'CREATED' }),
    userTask: (key) => tasks.userTask(key),
    userTaskForm: (key) => tasks.userTaskForm(key),
    userTaskVariables: (key) => tasks.userTaskVariables(key),
    complete: (key, variables) => tasks.complete(key, variables),
  }
  const links = new DecisionLinkService(options.config, new DecisionLinkSigner(persistentSecret(options.dataDir, DECISION_LINK_SECRET)), store, engine, {
    'interconnection-cut:hold-crisis-meeting': crisisCompletion(options.cuts),
  })
  let mail: { close(): Promise<void> } | undefined
  return {
    links,
    start: () => {
      mail = startDecisionMail({ config: options.config, engine, links, store, mailer: options.mailer, publicUrl: options.publicUrl, logger: options.logger, intervalMs: options.intervalMs })
    },
    close: async () => {
      await mail?.close()
      store.close()
    },
  }
}
