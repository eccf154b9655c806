/**
 * notify-parties without an engine: who gets which mail, in which language, under which
 * idempotency key, and what the change-notice template is given (CHG-1..8, PRD-1..6).
 */
import { UnknownOrganisationError } from '../../src/config'
import { renderTemplate, type TemplateData } from '../../src/notify'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import { handle, idempotencyKey, inputSchema, resolveRecipients, templateData, type Input } from '../../workers/notify-parties'
import { NOW, workerFixture, type WorkerFixture } from './fixtures'

const MAIL = {
  portailTechnical: 'camille.martin@portail.example.org',
  portailFunctional: 'dominique.bernard@portail.example.org',
  portailOperations: 'exploitation@portail.example.org',
  alphaTechnical: 'sacha.durand@fournisseur-alpha.example.org',
  alphaOperations: 'supervision@fournisseur-alpha.example.org',
  betaTechnical: 'robin.taylor@provider-beta.example.org',
  betaOperations: 'servicedesk@provider-beta.example.org',
} as const

/** The variables as the worker receives them: parsed by its schema, so absent ones are undefined. */
const variables = (values: Record<string, unknown>): Input => inputSchema.parse(values)

const change = variables({ reference: 'CHG-20250314-0001', title: 'Nouveau parcours de dépôt', version: '5.0' })
const retention = variables({
  ...change,
  previousVersion: '4.9',
  providers: ['fournisseur-alpha', 'provider-beta'],
  releasedAt: '2025-03-14T09:00:00.000Z',
  retirementDeadline: '2025-09-14T09:00:00.000Z',
})

let f: WorkerFixture

beforeEach(() => {
  f = workerFixture()
})
afterEach(() => f.close())

describe('PRD-2: recipients, one group per organisation', () => {
  test('CHG-8: given client and providers roles, when resolved, then every provider of the configuration is named after the client, in header order', () => {
    // when
    const groups = resolveRecipients(f.config, 'client:technicalLead, providers:technicalLead', change)
    // then
    expect(groups.map((group) => [group.organisation.id, group.emails])).toEqual([
      ['portail', [MAIL.portailTechnical]],
      ['fournisseur-alpha', [MAIL.alphaTechnical]],
      ['provider-beta', [MAIL.betaTechnical]],
    ])
  })

  test('CHG-5: given the variable providers, when resolved, then only those providers are named', () => {
    // when
    const groups = resolveRecipients(f.config, 'providers:operations', { ...change, providers: ['provider-beta'] })
    // then
    expect(groups.map((group) => group.organisation.id)).toEqual(['provider-beta'])
  })

  test('PRD-4: given provider, when resolved, then it is the organisation of the variable providerId', () => {
    // when
    const groups = resolveRecipients(f.config, 'provider:operations, provider:technicalLead', { ...change, providerId: 'fournisseur-alpha' })
    // then
    expect(groups).toHaveLength(1)
    expect(groups[0]).toMatchObject({ organisation: { id: 'fournisseur-alpha' }, emails: [MAIL.alphaOperations, MAIL.alphaTechnical] })
  })

  test('PRD-2: given one organisation named twice and a contact holding two roles, when resolved, then its group lists each address once', () => {
    // given: Sacha Durand is fournisseur-alpha's technical lead and one of its trace request contacts
    // when
    const groups = resolveRecipients(f.config, 'provider:technicalLead, providers:traceRequestReceivers', { ...change, providerId: 'fournisseur-alpha', providers: ['fournisseur-alpha'] })
    // then
    expect(groups).toHaveLength(1)
    expect(groups[0].emails).toEqual([MAIL.alphaTechnical])
  })

  test.each([
    ['an unknown party', 'supplier:operations', /recipient 'supplier:operations'/],
    ['an unknown role', 'client:ceo', /recipient 'client:ceo'/],
    ['a third part', 'client:operations:urgent', /recipient 'client:operations:urgent'/],
    ['nobody', ' , ', /name nobody/],
    ['provider without providerId', 'provider:operations', /needs the variable providerId/],
  ])('given %s, when resolved, then a JobInputError names it', (_case, header, message) => {
    // when
    const resolve = () => resolveRecipients(f.config, header, change)
    // then
    expect(resolve).toThrow(JobInputError)
    expect(resolve).toThrow(message)
  })

  test('given a providerId not in the configuration, when resolved, then UnknownOrganisationError', () => {
    expect(() => resolveRecipients(f.config, 'provider:operations', { ...change, providerId: 'gamma' })).toThrow(UnknownOrganisationError)
  })
})

describe('handle: one mail per organisation, in its language, once per job', () => {
  const headers = { event: 'retention-reminder', recipients: 'client:technicalLead, providers:technicalLead' }

  test('CHG-8, PRD-2: given the client and two providers, when a reminder is sent, then each organisation gets one mail in its language and time zone, keyed by job and organisation', async () => {
    // when
    const output = await handle(retention, f.context({ key: '42', headers }))
    // then
    expect(f.mailer.sent.map((mail) => [mail.idempotencyKey, mail.lang, mail.timeZone, mail.to, mail.template])).toEqual([
      [idempotencyKey(retention.reference, '42', 'portail'), 'fr', 'Europe/Paris', [MAIL.portailTechnical], 'change-notice'],
      [idempotencyKey(retention.reference, '42', 'fournisseur-alpha'), 'fr', 'Europe/Paris', [MAIL.alphaTechnical], 'change-notice'],
      [idempotencyKey(retention.reference, '42', 'provider-beta'), 'en', 'Europe/London', [MAIL.betaTechnical], 'change-notice'],
    ])
    expect(new Set(f.mailer.sent.map((mail) => mail.idempotencyKey)).size).toBe(3)
    expect(output).toEqual({ messageIds: [expect.stringMatching(/^<.+@raccord\.portail>$/), expect.stringMatching(/^<.+@raccord\.portail>$/), expect.stringMatching(/^<.+@raccord\.portail>$/)] })
    expect(Object.keys(output)).toEqual(['messageIds'])
  })

  test('CHG-8: given a job delivered twice, when it is handled again, then nothing more is mailed and the Message-IDs are the same', async () => {
    // given
    const first = await handle(retention, f.context({ key: '42', headers }))
    // when
    const second = await handle(retention, f.context({ key: '42', headers }))
    // then
    expect(second).toEqual(first)
    expect(f.mailer.sent).toHaveLength(3)
  })

  test('CHG-8: given two jobs of one process (the one-month then the one-week reminder), when both run, then both are mailed', async () => {
    // when
    const month = await handle(retention, f.context({ key: '42', headers }))
    const week = await handle(retention, f.context({ key: '43', headers }))
    // then
    expect(week.messageIds).not.toEqual(month.messageIds)
    expect(f.mailer.sent).toHaveLength(6)
  })

  test('CHG-8: given the same job key on another change (a fresh engine numbers jobs again), when it runs, then it is another mail', async () => {
    // when
    const first = await handle(retention, f.context({ key: '7', headers }))
    const other = await handle({ ...retention, reference: 'CHG-20250314-0002' }, f.context({ key: '7', headers }))
    // then
    expect(other.messageIds).not.toEqual(first.messageIds)
    expect(f.mailer.sent).toHaveLength(6)
  })

  test('given an unknown event or a missing header, when the job runs, then a JobInputError and nothing is mailed', async () => {
    await expect(handle(change, f.context({ headers: { event: 'change-approved', recipients: 'client:operations' } }))).rejects.toThrow(/'change-approved' is not one of/)
    await expect(handle(change, f.context({ headers: { event: 'change-released' } }))).rejects.toThrow(/task header 'recipients' is missing/)
    await expect(handle(change, f.context({ headers: { recipients: 'client:operations' } }))).rejects.toThrow(JobInputError)
    expect(f.mailer.sent).toEqual([])
  })

  test('given a mailer failure, when the job runs, then it propagates for index.ts to classify', async () => {
    // given
    f.mailer.failWith = new Error('SMTP down')
    // when, then
    await expect(handle(change, f.context({ headers: { event: 'change-released', recipients: 'client:operations' } }))).rejects.toThrow('SMTP down')
  })
})

describe('CHG-8: the retention mail carries the Deprecation and Sunset values', () => {
  test('CHG-8: given n released and the deadline, when the retention is announced, then the mail gives the deadline and the Deprecation and Sunset header values', async () => {
    // when
    await handle(retention, f.context({ headers: { event: 'retention-agreed', recipients: 'client:technicalLead, providers:technicalLead' } }))
    // then
    const data = f.mailer.sent[0].data as TemplateData<'change-notice'>
    expect(data).toMatchObject({
      event: 'retention-agreed',
      reference: retention.reference,
      version: '5.0',
      previousVersion: '4.9',
      dueAt: '2025-09-14T09:00:00.000Z',
      headers: { deprecation: `@${Date.parse('2025-03-14T09:00:00Z') / 1000}`, sunset: 'Sun, 14 Sep 2025 09:00:00 GMT' },
    })
    for (const [lang, sent] of [['fr', f.mailer.sent[0]], ['en', f.mailer.sent[2]]] as const) {
      expect(sent.lang).toBe(lang)
      const mail = renderTemplate('change-notice', lang, sent.data as TemplateData<'change-notice'>, { timeZone: sent.timeZone ?? 'UTC', senderName: 'Portail citoyen' })
      expect(mail.text).toContain('Deprecation')
      expect(mail.text).toContain('@1741942800')
      expect(mail.text).toContain('Sunset')
      expect(mail.text).toContain('Sun, 14 Sep 2025 09:00:00 GMT')
    }
  })

  test('CHG-8: given a reminder or the retirement, when mailed, then the date is the deadline and no header values are repeated', () => {
    for (const event of ['retention-reminder', 'previous-version-retired'] as const) {
      // when
      const data = templateData(event, retention, f.config, NOW)
      // then
      expect(data.dueAt).toBe(retention.retirementDeadline)
      expect(data.headers).toBeUndefined()
    }
  })

  test('CHG-8: given a retention announced without releasedAt, when mailed, then no half-filled header values', () => {
    // when
    const data = templateData('retention-agreed', { ...retention, releasedAt: undefined }, f.config, NOW)
    // then
    expect(data.headers).toBeUndefined()
  })
})

describe('templateData: the other facts of a mail', () => {
  test('CHG-5: given dueIn, when mailed, then the date to answer by is the worker clock plus dueIn', () => {
    expect(templateData('change-on-qualification', { ...change, dueIn: 'P5D' }, f.config, NOW).dueAt).toBe('2025-03-19T09:00:00.000Z')
  })

  test('PRD-1: given a planned portal release, when mailed, then the date is the planned one', () => {
    expect(templateData('portal-release-planned', { ...change, plannedAt: '2025-04-01T06:00:00+02:00', dueIn: 'P5D' }, f.config, NOW).dueAt).toBe('2025-04-01T06:00:00+02:00')
  })

  test('PRD-4: given providerId and serviceId, when mailed, then the mail names them as the configuration does', () => {
    const data = templateData('service-opened', { ...change, providerId: 'fournisseur-alpha', serviceId: 'demarches-alpha' }, f.config, NOW)
    expect(data).toMatchObject({ provider: 'Fournisseur Alpha', service: 'Démarches en ligne Alpha' })
  })

  test('CHG-5: given refusal reasons, when mailed, then they are quoted; blank reasons are left out', () => {
    expect(templateData('change-sent-back', { ...change, refusalReasons: 'Régression sur le dépôt' }, f.config, NOW).reasons).toBe('Régression sur le dépôt')
    expect(templateData('change-sent-back', { ...change, refusalReasons: '  ' }, f.config, NOW).reasons).toBeUndefined()
  })
})

test('the input schema lists exactly the variables the worker fetches, and reads null as absent', () => {
  expect(Object.keys(inputSchema.shape).sort()).toEqual(
    ['dueIn', 'plannedAt', 'previousVersion', 'providerId', 'providers', 'reference', 'refusalReasons', 'releasedAt', 'retirementDeadline', 'serviceId', 'title', 'version'],
  )
  expect(inputSchema.parse({ ...change, providerId: null, refusalReasons: null })).toEqual(change)
})
