/**
 * The shape of raccord.config.yaml: who the parties of the agreement are, how to reach their
 * contacts (the annex leaves these blank, so they are configuration), and who may call the API.
 */
import { z } from 'zod'

/** Ids appear in mail Message-IDs and URLs, so they stay lower-case slugs. */
const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'Invalid id: use lower-case letters, digits and dashes (e.g. portail)')

/** Environment variable names: secrets are referenced by name, never written in the file. */
const envVarName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'Invalid environment variable name: use SCREAMING_SNAKE_CASE')

const text = z.string().trim().min(1, 'Must not be empty')

/** Phones must be dialable from the other party's country, hence the international prefix. */
const phone = z.string().regex(/^\+[1-9][0-9 .-]{5,}$/, 'Invalid phone: use the international format, e.g. +33 1 23 45 67 89')

const timeZone = z.string().refine(isTimeZone, 'Invalid time zone: use an IANA name such as Europe/Paris')

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value })
    return true
  } catch {
    return false
  }
}

/** A named person: the `<A COMPLETER ...>` blanks of the annex. */
export const contactSchema = z.strictObject({
  name: text,
  function: text,
  email: z.email(),
  phone,
  /** Trace requests and answers travel by postal mail (TRC-3). */
  postalAddress: text,
})

/** The operating team, reached first for incidents and interconnection cuts. */
export const operationsTeamSchema = z.strictObject({
  name: text,
  email: z.email(),
  /** Reachable at any hour: a cut may be decided at any time (CUT-2). */
  onCallPhone: phone,
})

export const contactsSchema = z.strictObject({
  operations: operationsTeamSchema,
  technicalLead: contactSchema,
  functionalLead: contactSchema,
  directors: z.array(contactSchema).min(1, 'At least one director is required'),
  /** Who may ask the other party for traces (TRC-2). */
  traceRequestSenders: z.array(contactSchema).min(1, 'At least one trace-request sender is required'),
  /** Who may receive a trace request from the other party (TRC-2). */
  traceRequestReceivers: z.array(contactSchema).min(1, 'At least one trace-request receiver is required'),
})

/** How raccord disables and restores an interconnection. */
export const linkControlSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'Invalid URL: use http:// or https://' }),
    /** Name of the environment variable holding the webhook's shared secret. */
    secretEnv: envVarName,
  }),
  z.strictObject({ type: z.literal('manual') }),
])

export const interconnectionSchema = z.strictObject({
  id,
  /** Id of one of this organisation's services. */
  service: id,
  environment: z.enum(['preproduction', 'production']),
  linkControl: linkControlSchema.default({ type: 'manual' }),
})

export const serviceSchema = z.strictObject({ id, name: text })

export const organisationSchema = z.strictObject({
  id,
  name: text,
  role: z.enum(['client', 'provider']),
  /** Language of the mails this organisation receives. */
  language: z.enum(['fr', 'en']),
  /** Dates in mails to this organisation are shown in this IANA time zone. */
  timeZone,
  services: z.array(serviceSchema),
  interconnections: z.array(interconnectionSchema),
  contacts: contactsSchema,
})

export const apiTokenSchema = z.strictObject({
  /** Name of the environment variable holding the bearer token. */
  tokenEnv: envVarName,
  roles: z.array(z.enum(['operator', 'manager', 'admin'])).min(1, 'At least one role is required'),
  /** Id of the organisation on whose behalf the token acts. */
  organisation: id,
  /** Email of the person holding the token, one of the organisation's contacts: a crisis-cell member (CRI-1) is known by it. Give this or `team`. */
  contact: z.email().optional(),
  /** The team holding the token (e.g. operations), when it is not one person's. Give this or `contact`. */
  team: id.optional(),
})

const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/

/** A duration whose every part is 0: as a timer it would fire again and again without end. */
function isZeroDuration(duration: string): boolean {
  return !/[1-9]/.test(duration)
}

/** The interval of an ISO 8601 repetition (P7D of R/P7D); undefined for anything else (a cron expression). */
function cycleInterval(cycle: string): string | undefined {
  return /^R\d*\/(P.*)$/.exec(cycle)?.[1]
}

/** ISO 8601 durations such as PT30M or P2D, never zero. */
const isoDuration = z
  .string()
  .regex(DURATION, 'Invalid duration: use ISO 8601, e.g. PT30M or P2D')
  .refine((value) => !DURATION.test(value) || !isZeroDuration(value), 'Invalid duration: a zero interval would fire without end; use e.g. PT30M or P2D')

/** Interconnection cuts and the crisis cell (CUT-1..4, CRI-1..3). */
export const interconnectionCutsSchema = z.strictObject({
  /** How long the other party has to acknowledge a cut warning before someone phones its on-call (CUT-3). */
  acknowledgementDelay: isoDuration.default('PT30M'),
  /** The crisis cell meets within this delay of the cut (CRI-2). */
  crisisMeetingWithin: isoDuration.default('P2D'),
  /** Name of the environment variable holding the secret that signs acknowledgement links; unset, `raccord start` makes one for the run. */
  linkSecretEnv: envVarName.default('RACCORD_LINK_SECRET'),
  /** How long an acknowledgement link stays valid. */
  linkValidity: isoDuration.default('P2D'),
  /** Base URL of this raccord as the other party reaches it, for the links in mails; default the API's own address. */
  publicUrl: z.url({ protocol: /^https?$/, error: 'Invalid URL: use http:// or https://' }).optional(),
})

/** The security watch (SEC-1). */
export const securityWatchSchema = z.strictObject({
  /** How often the review comes back: an ISO 8601 repetition (R/P7D) or a cron expression (0 0 8 * * MON). Applied at deployment. */
  cycle: z
    .string()
    .trim()
    .refine(
      (value) => {
        const interval = cycleInterval(value)
        return interval === undefined ? /^(\S+\s+){5}\S+$/.test(value) : DURATION.test(interval)
      },
      'Invalid cycle: use an ISO 8601 repetition such as R/P7D, or a cron expression such as 0 0 8 * * MON',
    )
    .refine((value) => {
      const interval = cycleInterval(value)
      return interval === undefined || !DURATION.test(interval) || !isZeroDuration(interval)
    }, 'Invalid cycle: a zero interval would fire without end; use e.g. R/P7D')
    .default('R/P7D'),
})

/** Trace exchange (TRC-1..3). */
export const traceExchangeSchema = z.strictObject({
  /** How long the other party has to answer a trace request before the reminder (TRC-3). */
  answerDelay: isoDuration.default('P30D'),
})

/** Change management and production openings (CHG-1..8, PRD-1..6). */
export const changesSchema = z.strictObject({
  /** Months version n-1 stays online after the release of n, when the parties agree to keep it (CHG-8): at most 6. */
  versionRetentionMonths: z.int().min(1).max(6, 'At most 6: the agreement keeps version n-1 online 6 months at the most (CHG-8)').default(6),
  /** How long each provider has to test or validate a portal change on qualification before its directors are told (CHG-4). */
  providerAnswerDelay: isoDuration.default('P5D'),
  /** The delay agreed to keep or reactivate the pre-production link (CHG-1). */
  preproductionLinkDelay: isoDuration.default('P5D'),
  /** How long a new provider version is watched for malfunctions before it stands (PRD-6). */
  releaseWatchWindow: isoDuration.default('P2D'),
  /** Systems raccord drives for a change step; manual: a person does it and confirms. */
  adapters: z
    .strictObject({
      /** Retires portal version n-1 (CHG-8). */
      portalVersions: linkControlSchema.default({ type: 'manual' }),
      /** Makes a provider service visible in the portal's catalogue (PRD-4). */
      portalCatalogue: linkControlSchema.default({ type: 'manual' }),
      /** Puts a provider's earlier version back in production (PRD-6). */
      providerRollback: linkControlSchema.default({ type: 'manual' }),
    })
    .default({ portalVersions: { type: 'manual' }, portalCatalogue: { type: 'manual' }, providerRollback: { type: 'manual' } }),
})

export const apiSchema = z.strictObject({
  port: z.int().min(0).max(65535).default(3000),
  tokens: z.array(apiTokenSchema).default([]),
})

/** The whole configuration file. Cross references are checked here too, so every problem is listed at once. */
export const configSchema = z
  .strictObject({
    /** Id of the organisation this installation belongs to. */
    self: id,
    organisations: z.array(organisationSchema).min(2, 'At least two organisations are required: a client and a provider'),
    api: apiSchema.default({ port: 3000, tokens: [] }),
    interconnectionCuts: interconnectionCutsSchema.default({
      acknowledgementDelay: 'PT30M',
      crisisMeetingWithin: 'P2D',
      linkSecretEnv: 'RACCORD_LINK_SECRET',
      linkValidity: 'P2D',
    }),
    securityWatch: securityWatchSchema.default({ cycle: 'R/P7D' }),
    traceExchange: traceExchangeSchema.default({ answerDelay: 'P30D' }),
    changes: changesSchema.default({
      versionRetentionMonths: 6,
      providerAnswerDelay: 'P5D',
      preproductionLinkDelay: 'P5D',
      releaseWatchWindow: 'P2D',
      adapters: { portalVersions: { type: 'manual' }, portalCatalogue: { type: 'manual' }, providerRollback: { type: 'manual' } },
    }),
  })
  .superRefine(checkReferences, { when: () => true })

/**
 * Runs even when parts of the file are malformed, so that a typo in an email and a wrong `self`
 * are reported together: every read below tolerates a missing or mistyped value.
 */
function checkReferences(raw: unknown, ctx: z.RefinementCtx): void {
  const config = asRecord(raw)
  const organisations = asArray(config.organisations).map(asRecord)
  const orgIds = new Set<string>()

  organisations.forEach((org, i) => {
    if (typeof org.id !== 'string') return
    if (orgIds.has(org.id)) ctx.addIssue({ code: 'custom', path: ['organisations', i, 'id'], message: `Duplicate organisation id '${org.id}'` })
    orgIds.add(org.id)
  })

  if (typeof config.self === 'string' && !orgIds.has(config.self)) {
    ctx.addIssue({ code: 'custom', path: ['self'], message: `Unknown organisation '${config.self}': expected one of ${list(orgIds)}` })
  }

  const clients = organisations.filter((org) => org.role === 'client').length
  if (organisations.length >= 2 && clients !== 1) {
    ctx.addIssue({ code: 'custom', path: ['organisations'], message: `Exactly one organisation must have role client, found ${clients}` })
  }

  const interconnectionIds = new Set<string>()
  organisations.forEach((org, i) => {
    const serviceIds = new Set<string>()
    asArray(org.services).map(asRecord).forEach((service, j) => {
      if (typeof service.id !== 'string') return
      if (serviceIds.has(service.id)) {
        ctx.addIssue({ code: 'custom', path: ['organisations', i, 'services', j, 'id'], message: `Duplicate service id '${service.id}'` })
      }
      serviceIds.add(service.id)
    })
    asArray(org.interconnections).map(asRecord).forEach((link, j) => {
      const path = ['organisations', i, 'interconnections', j]
      if (typeof link.id === 'string') {
        if (interconnectionIds.has(link.id)) ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `Duplicate interconnection id '${link.id}'` })
        interconnectionIds.add(link.id)
      }
      if (typeof link.service === 'string' && !serviceIds.has(link.service)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'service'], message: `Unknown service '${link.service}': expected one of ${list(serviceIds)}` })
      }
    })
  })

  asArray(asRecord(config.api).tokens).map(asRecord).forEach((token, i) => {
    const path = ['api', 'tokens', i]
    if (typeof token.organisation === 'string' && !orgIds.has(token.organisation)) {
      ctx.addIssue({ code: 'custom', path: [...path, 'organisation'], message: `Unknown organisation '${token.organisation}': expected one of ${list(orgIds)}` })
    }
    // A credential is one person or one team, so that every action has a named actor.
    if ((token.contact === undefined) === (token.team === undefined)) {
      ctx.addIssue({ code: 'custom', path, message: 'Name who holds the token: either contact (a person of the organisation, by email) or team (e.g. operations), not both' })
    }
    const org = organisations.find((candidate) => candidate.id === token.organisation)
    if (typeof token.contact === 'string' && org !== undefined) {
      const emails = new Set(contactEmailsOf(asRecord(org.contacts)))
      if (!emails.has(token.contact)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'contact'], message: `'${token.contact}' is not a contact of ${String(token.organisation)}: expected one of ${list(emails)}` })
      }
    }
  })
}

/** The emails of an organisation's named people (not its operations team, which is a team). */
function contactEmailsOf(contacts: Record<string, unknown>): string[] {
  const people = [contacts.technicalLead, contacts.functionalLead, ...asArray(contacts.directors), ...asArray(contacts.traceRequestSenders), ...asArray(contacts.traceRequestReceivers)]
  return people.map((person) => asRecord(person).email).filter((email): email is string => typeof email === 'string')
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function list(values: Set<string>): string {
  return values.size === 0 ? '(none)' : [...values].join(', ')
}

/** The validated configuration. */
export type Config = z.output<typeof configSchema>
export type Organisation = Config['organisations'][number]
export type Contact = z.output<typeof contactSchema>
export type OperationsTeam = z.output<typeof operationsTeamSchema>
export type Contacts = Organisation['contacts']
export type Interconnection = Organisation['interconnections'][number]
export type Service = Organisation['services'][number]
export type ApiToken = Config['api']['tokens'][number]
export type ApiRole = ApiToken['roles'][number]
export type Language = Organisation['language']
export type InterconnectionCutsConfig = Config['interconnectionCuts']
export type ChangesConfig = Config['changes']
export type AdapterName = keyof ChangesConfig['adapters']
