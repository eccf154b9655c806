/**
 * Mails the other party its decisions: every open user task whose candidate group is another
 * organisation's than this installation's (a provider's validation, green light, opening approval
 * or activation, link confirmation, ...) is mailed once to that party's contacts for the group,
 * each with personal signed links, one per answer of the task's form. The engine has no hook on
 * task creation that any Camunda 8 offers alike, so open tasks are read through the public API
 * every few seconds; the store remembers which were mailed, across restarts.
 */
import type { Logger } from 'pino'
import type { Config, Organisation } from '../../config'
import type { Mailer } from '../../notify'
import { addDuration } from '../iso-duration'
import { addresseeOf, choiceFieldOf, type DecisionEngine, type DecisionLinkService, type DecisionTask } from './decision-links'
import type { DecisionLinkStore } from './decision-links-store'
import { componentWords, taskName } from './decision-links-words'
import { nearestFirst, organisationOfGroup } from './task-gate'

/** How long a decision link works: longer than any answer delay of the agreement (CHG-4: days). */
export const DECISION_LINK_VALIDITY = 'P14D'

/** Who a candidate group's tasks are mailed to, by the group's suffix after the organisation id. */
const ROLE_OF_GROUP: Record<string, 'technicalLead' | 'functionalLead' | 'directors' | 'operations'> = {
  technical: 'technicalLead',
  functional: 'functionalLead',
  management: 'directors',
  operations: 'operations',
}

export interface DecisionMailOptions {
  config: Config
  engine: DecisionEngine
  links: DecisionLinkService
  store: DecisionLinkStore
  mailer: Pick<Mailer, 'send'>
  /** base URL of this raccord for the other party, without a trailing slash */
  publicUrl(): string
  logger: Pick<Logger, 'warn'>
  now?: () => Date
  /** between two reads of the open tasks; default 1000 */
  intervalMs?: number
}

/** The variables naming the record a task is about, first found first: its id leads the mail's subject. */
const RECORD_ID_VARIABLES = ['reference', 'cutId', 'incidentId', 'vulnerabilityId', 'traceRequestId', 'watchReviewId', 'changeId'] as const

/** The contacts of `org` a task of `group` is mailed to. */
export function addresseesFor(org: Organisation, group: string): Array<{ name: string; email: string }> {
  const role = ROLE_OF_GROUP[group.slice(org.id.length + 1)] ?? 'technicalLead'
  const held = org.contacts[role]
  return Array.isArray(held) ? held : [held]
}

/**
 * Who a task's links go to: the contacts of each other organisation a candidate group names; and
 * for a task of named persons (the crisis cell's meeting, CRI-3), each of them, of either party,
 * so that every member decides as themselves.
 */
function addressees(config: Config, task: DecisionTask): Array<{ org: Organisation; contacts: Array<{ name: string; email: string }> }> {
  const ids = config.organisations.map((org) => org.id)
  const found: Array<{ org: Organisation; contacts: Array<{ name: string; email: string }> }> = []
  for (const group of task.candidateGroups) {
    const orgId = organisationOfGroup(group, ids)
    const org = config.organisations.find((candidate) => candidate.id === orgId)
    if (org !== undefined && org.id !== config.self && !found.some((entry) => entry.org.id === org.id)) found.push({ org, contacts: addresseesFor(org, group) })
  }
  for (const email of task.candidateUsers) {
    const org = config.organisations.find((candidate) => addresseeOf(config, candidate.id, email) !== undefined)
    const person = org === undefined ? undefined : addresseeOf(config, org.id, email)
    if (org !== undefined && person !== undefined) found.push({ org, contacts: [{ name: person.name, email: person.email }] })
  }
  return found
}

/** Mails one task's links to its other parties. */
export async function announceTask(options: DecisionMailOptions, task: DecisionTask): Promise<void> {
  const { config, engine, links, store, mailer } = options
  const now = (options.now ?? (() => new Date()))()
  const parties = addressees(config, task)
  if (parties.length === 0 || store.isAnnounced(task.userTaskKey)) return
  const form = await engine.userTaskForm(task.userTaskKey)
  const variables = nearestFirst(await engine.userTaskVariables(task.userTaskKey))
  // Two rounds cannot overlap, but two raccord instances on one data dir could: one mails.
  if (!store.announce(task.userTaskKey, parties[0].org.id, now.toISOString())) return
  const choice = choiceFieldOf(form)
  const choiceComponent = choice === undefined ? undefined : findComponent(form, choice.key)
  const formId = typeof form?.id === 'string' ? form.id : undefined
  const expiresAt = addDuration(now, DECISION_LINK_VALIDITY)
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)
  try {
    for (const { org, contacts } of parties) {
      for (const addressee of contacts) {
        const url = (value: string | null) => `${options.publicUrl()}/decisions/${links.sign({ task: task.userTaskKey, party: org.id, to: addressee.email, choice: value, exp: Date.parse(expiresAt) })}`
        const words = choiceComponent === undefined ? undefined : componentWords(formId, choiceComponent, org.language)
        const actions = choice === undefined || words === undefined
          ? [{ label: org.language === 'fr' ? 'Répondre' : 'Answer', url: url(null) }]
          : choice.values.map((value) => ({ label: words.valueLabel(value), url: url(value) }))
        await mailer.send({
          idempotencyKey: `decision:${task.userTaskKey}:${addressee.email}`,
          to: [addressee.email],
          template: 'decision-requested',
          lang: org.language,
          timeZone: org.timeZone,
          data: {
            task: taskName(task.processDefinitionId, task.elementId, task.name, org.language),
            reference: RECORD_ID_VARIABLES.map((name) => text(variables[name])).find((id) => id !== undefined),
            title: text(variables.title),
            addressee: addressee.name,
            party: org.name,
            actions,
            expiresAt,
          },
        })
      }
    }
  } catch (error) {
    // Not everyone was told: the next round tries again (the mailer's idempotency keys keep it to one mail each).
    store.forgetAnnouncement(task.userTaskKey)
    throw error
  }
}

/** The component with this key, anywhere in the form. */
export function findComponent(form: Record<string, unknown> | undefined, key: string): ({ id?: string; key?: string; label?: string; values?: Array<{ value?: unknown; label?: string }> }) | undefined {
  type Component = { id?: string; key?: string; label?: string; values?: Array<{ value?: unknown; label?: string }>; components?: Component[] }
  const visit = (components: Component[] | undefined): Component | undefined => {
    for (const component of components ?? []) {
      if (component.key === key) return component
      const inner = visit(component.components)
      if (inner !== undefined) return inner
    }
    return undefined
  }
  return visit(form?.components as Component[] | undefined)
}

/** Reads the open tasks every `intervalMs` and mails those of the other party not mailed yet. */
export function startDecisionMail(options: DecisionMailOptions): { close(): Promise<void> } {
  let running: Promise<void> | undefined
  let closed = false
  const round = async () => {
    for (const task of await options.engine.openUserTasks()) {
      if (closed) return
      try {
        await announceTask(options, task)
      } catch (error) {
        options.logger.warn({ err: error, userTaskKey: task.userTaskKey }, 'decision links: the task could not be mailed; next round tries again')
      }
    }
  }
  const timer = setInterval(() => {
    if (running !== undefined) return
    running = round()
      .catch((error: unknown) => options.logger.warn({ err: error }, 'decision links: cannot read the open tasks'))
      .finally(() => { running = undefined })
  }, options.intervalMs ?? 1000)
  return {
    async close() {
      closed = true
      clearInterval(timer)
      await running
    },
  }
}
