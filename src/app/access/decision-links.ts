/**
 * Decision links: the other party decides a user task of its own (a provider's validation, green
 * light, opening approval, activation, link confirmation...) from the mail it receives. Each link
 * names one addressee (a contact of that party), one task and one choice of the task's form; it is
 * HMAC-SHA256 signed with a secret kept in the data dir, expires, and works once. Using it
 * completes the task with that form's fields only, checked by the same rules as the console, and
 * records the addressee as the actor, with when.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import type { Config } from '../../config'
import { personsOf } from '../../config/identities'
import type { GatedTask, TaskReader } from '../../engine-client/task-reader'
import { formFieldRules } from './form-validation'
import { checkTaskSubmission, nearestFirst, NotYourTaskError, requireTaskParty, TaskSubmissionError } from './task-gate'
import type { DecisionLinkStore, LinkDecision } from './decision-links-store'

/** What a decision link carries, signed. */
export interface DecisionClaims {
  /** the user task the link decides */
  task: string
  /** the organisation the task is for, and the link was mailed to */
  party: string
  /** the addressee: one contact of `party`, by email */
  to: string
  /** the value of the form's choice field this link stands for; null when the form has none */
  choice: string | null
  /** expiry, epoch ms */
  exp: number
  nonce: string
}

const claimsSchema = z.strictObject({
  task: z.string().regex(/^\d+$/),
  party: z.string().min(1),
  to: z.email(),
  choice: z.string().min(1).nullable(),
  exp: z.number().int(),
  nonce: z.string().min(8),
})

/**
 * Why a link is refused: `unknown`, not a link raccord makes; `altered`, a raccord link whose
 * content no longer matches its signature; `expired`; `used`, used once already; `closed`, its task
 * was completed by another way (the console, another link) or is no longer open.
 */
export type DecisionLinkRefusal = 'unknown' | 'altered' | 'expired' | 'used' | 'closed'

export class DecisionLinkRefusedError extends Error {
  override name = 'DecisionLinkRefusedError'
  constructor(
    readonly reason: DecisionLinkRefusal,
    /** the claims, when the link was genuine: the page is then in the addressee's language */
    readonly claims?: DecisionClaims,
  ) {
    super(`Decision link refused: ${reason}`)
  }
}

/** The engine could not be read or told; the link stays usable (503). */
export class DecisionEngineError extends Error {
  override name = 'DecisionEngineError'
}

/** Below this, a secret is too easy to guess. */
const MIN_SECRET_BYTES = 16

export class DecisionLinkSigner {
  private readonly key: Buffer

  constructor(secret: string) {
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new Error(`The decision link secret must be at least ${MIN_SECRET_BYTES} bytes long`)
    this.key = Buffer.from(secret)
  }

  /** A token for a URL path: base64url(claims).base64url(hmac). */
  sign(claims: Omit<DecisionClaims, 'nonce'>): string {
    const body = Buffer.from(JSON.stringify({ ...claims, nonce: randomBytes(12).toString('base64url') })).toString('base64url')
    return `${body}.${this.mac(body)}`
  }

  /** The claims of a genuine, unexpired token. Throws DecisionLinkRefusedError. Says nothing of its use. */
  verify(token: string, now: Date): DecisionClaims {
    const [body, mac, ...rest] = token.split('.')
    if (body === undefined || mac === undefined || rest.length > 0 || body === '') throw new DecisionLinkRefusedError('unknown')
    let claims: DecisionClaims
    try {
      claims = claimsSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')))
    } catch {
      throw new DecisionLinkRefusedError('unknown')
    }
    const expected = Buffer.from(this.mac(body))
    const presented = Buffer.from(mac)
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw new DecisionLinkRefusedError('altered')
    if (claims.exp <= now.getTime()) throw new DecisionLinkRefusedError('expired', claims)
    return claims
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url')
  }
}

/** A user task as the decision links read it. */
export interface DecisionTask extends GatedTask {
  name?: string
  state: string
  processInstanceKey: string
  processDefinitionId: string
}

/** What decision links ask of the engine, through the public API. */
export interface DecisionEngine extends TaskReader {
  openUserTasks(): Promise<DecisionTask[]>
  userTask(key: string): Promise<DecisionTask>
  complete(key: string, variables: Record<string, unknown>): Promise<void>
}

/**
 * The field of a form whose options a link stands for: its first required radio. Every radio of
 * the forms is a decision (approve / refuse, restore / keep cut, release / postpone...); a select
 * is a detail of the answer (a channel, an impact), asked on the page.
 */
export interface ChoiceField {
  key: string
  values: string[]
}

export function choiceFieldOf(form: Record<string, unknown> | undefined): ChoiceField | undefined {
  if (form === undefined) return undefined
  for (const rule of formFieldRules(form, {})) {
    const { component } = rule
    if (component.type === 'radio' && component.validate?.required && component.values && component.values.length > 0) {
      return { key: rule.name, values: component.values.map((v) => String(v.value)) }
    }
  }
  return undefined
}

/** A person or team of a party, as links name them. */
export interface Addressee {
  organisation: string
  name: string
  email: string
  /** as trails name the actor: "Sacha Durand (fournisseur-alpha)" */
  actor: string
}

/** The contact of `organisation` with this email: a named person or its operations team. */
export function addresseeOf(config: Config, organisation: string, email: string): Addressee | undefined {
  const org = config.organisations.find((candidate) => candidate.id === organisation)
  if (org === undefined) return undefined
  const contact = [org.contacts.operations, ...personsOf(config, organisation)].find((candidate) => candidate.email === email)
  return contact === undefined ? undefined : { organisation, name: contact.name, email: contact.email, actor: `${contact.name} (${organisation})` }
}

/** What a genuine link opens on: its task, its form, what the task sees, and its addressee. */
export interface InspectedLink {
  claims: DecisionClaims
  task: DecisionTask
  addressee: Addressee
  form: Record<string, unknown> | undefined
  choiceField: ChoiceField | undefined
  data: Record<string, unknown>
}

/**
 * How a task whose completion is a domain's own is decided through a link, instead of completing
 * it at once: the crisis meeting takes one agreement per member and completes once both parties
 * agreed (CRI-3). Its errors are those of `use`: TaskSubmissionError, NotYourTaskError,
 * DecisionLinkRefusedError.
 */
export type DomainCompletion = (task: DecisionTask, variables: Record<string, unknown>, data: Record<string, unknown>, addressee: Addressee) => Promise<void>

export class DecisionLinkService {
  constructor(
    private readonly config: Config,
    private readonly signer: DecisionLinkSigner,
    private readonly store: DecisionLinkStore,
    private readonly engine: DecisionEngine,
    /** by `processDefinitionId:elementId` */
    private readonly completions: Readonly<Record<string, DomainCompletion>> = {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A signed token for one addressee, one task and one choice. */
  sign(claims: Omit<DecisionClaims, 'nonce'>): string {
    return this.signer.sign(claims)
  }

  /** Who used a link and when, once it is used. */
  usedBy(claims: DecisionClaims): LinkDecision | undefined {
    return this.store.usedBy(claims.nonce)
  }

  /** The link's task and form, if it may still be used. Throws DecisionLinkRefusedError, DecisionEngineError. */
  async inspect(token: string): Promise<InspectedLink> {
    const claims = this.signer.verify(token, this.now())
    if (this.store.usedBy(claims.nonce) !== undefined) throw new DecisionLinkRefusedError('used', claims)
    const addressee = addresseeOf(this.config, claims.party, claims.to)
    if (addressee === undefined) throw new DecisionLinkRefusedError('unknown', claims)
    let task: DecisionTask
    try {
      task = await this.engine.userTask(claims.task)
    } catch (error) {
      // A signed link to a task the engine no longer knows: that task is closed.
      if (isNotFound(error)) throw new DecisionLinkRefusedError('closed', claims)
      throw new DecisionEngineError(`Cannot read user task ${claims.task}: ${(error as Error).message}`, { cause: error })
    }
    if (task.state !== 'CREATED') throw new DecisionLinkRefusedError('closed', claims)
    // The link was made for the task's party; this holds unless the task was reassigned since.
    requireTaskParty({ organisation: addressee.organisation, person: { name: addressee.name, email: addressee.email }, actor: addressee.actor }, task, this.config.organisations.map((org) => org.id))
    let form: Record<string, unknown> | undefined
    let data: Record<string, unknown>
    try {
      form = await this.engine.userTaskForm(task.userTaskKey)
      data = nearestFirst(await this.engine.userTaskVariables(task.userTaskKey))
    } catch (error) {
      throw new DecisionEngineError(`Cannot read the form of user task ${task.userTaskKey}: ${(error as Error).message}`, { cause: error })
    }
    return { claims, task, addressee, form, choiceField: choiceFieldOf(form), data }
  }

  /**
   * Uses a link once: the task completes with the link's choice and the submitted fields, checked
   * by the form's rules (TaskSubmissionError), the addressee recorded as the actor. A failure of
   * the engine gives the link back.
   */
  async use(token: string, submitted: Record<string, unknown>): Promise<{ inspected: InspectedLink; at: string }> {
    const inspected = await this.inspect(token)
    const { claims, task, addressee, choiceField, data } = inspected
    const variables = choiceField === undefined || claims.choice === null ? { ...submitted } : { ...submitted, [choiceField.key]: claims.choice }
    await checkTaskSubmission(this.engine, task, variables)
    const at = this.now().toISOString()
    if (!this.store.use(claims.nonce, { userTaskKey: task.userTaskKey, organisation: addressee.organisation, actor: addressee.actor, choice: claims.choice, usedAt: at })) {
      throw new DecisionLinkRefusedError('used', claims)
    }
    const domain = this.completions[`${task.processDefinitionId}:${task.elementId}`]
    try {
      if (domain === undefined) await this.engine.complete(task.userTaskKey, { ...variables, completedBy: addressee.actor })
      else await domain(task, variables, data, addressee)
    } catch (error) {
      this.store.release(claims.nonce)
      if (error instanceof TaskSubmissionError || error instanceof NotYourTaskError) throw error
      // A domain's refusal knows no claims: with them, the page is in the addressee's language.
      if (error instanceof DecisionLinkRefusedError) throw new DecisionLinkRefusedError(error.reason, claims)
      // Completed by another way between the read and now: the engine refuses a second completion.
      if (isNotFound(error) || isConflict(error)) throw new DecisionLinkRefusedError('closed', claims)
      throw new DecisionEngineError(`Cannot complete user task ${task.userTaskKey}: ${(error as Error).message}`, { cause: error })
    }
    return { inspected, at }
  }
}

function statusOf(error: unknown): number | undefined {
  const candidate = error as { status?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } }
  const status = candidate.status ?? candidate.statusCode ?? candidate.response?.statusCode
  return typeof status === 'number' ? status : undefined
}

const isNotFound = (error: unknown) => statusOf(error) === 404
const isConflict = (error: unknown) => statusOf(error) === 409
