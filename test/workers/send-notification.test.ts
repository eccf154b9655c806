import { addDuration } from '../../src/app/iso-duration'
import { TemplateDataError } from '../../src/notify'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import { handle, idempotencyKey, inputSchema, otherPartiesOf, resolveRecipients, type Input } from '../../workers/send-notification'
import { NOW, workerFixture, type WorkerFixture } from './fixtures'

const declared: Input = {
  incidentId: 'INC-20250314-0001',
  title: 'Paiements refusés',
  description: 'Toutes les transactions échouent',
  service: 'demarches-alpha',
  impact: 'high',
  urgency: 'medium',
  reportingOrganisation: 'portail',
  declaredAt: '2025-03-14T08:00:00.000Z',
  priority: { priority: 'P2', responseTarget: 'PT1H', resolutionTarget: 'PT8H' },
}

let f: WorkerFixture

beforeEach(() => {
  f = workerFixture()
  f.trace.openIncident({
    id: declared.incidentId, title: declared.title, service: declared.service, impact: 'high', urgency: 'medium',
    reportingOrganisation: 'portail', declaredBy: 'Camille Martin', declaredAt: declared.declaredAt as string,
  })
})
afterEach(() => f.close())

describe('recipients (INC-4: the other party is reached by email)', () => {
  test('the other party of an incident on a provider service declared by the client is that provider', () => {
    expect(otherPartiesOf(f.config, 'portail', 'demarches-alpha').map((org) => org.id)).toEqual(['fournisseur-alpha'])
  })

  test('a provider declaring on its own service tells the client', () => {
    expect(otherPartiesOf(f.config, 'provider-beta', 'payments-beta').map((org) => org.id)).toEqual(['portail'])
  })

  test('the client declaring on its own portal tells every provider', () => {
    expect(otherPartiesOf(f.config, 'portail', 'portail-web').map((org) => org.id)).toEqual(['fournisseur-alpha', 'provider-beta'])
  })

  test('both-parties:directors names the directors of the reporting and the other party, grouped by organisation', () => {
    const groups = resolveRecipients(f.config, 'both-parties:directors', { reportingOrganisation: 'portail', service: 'payments-beta' })
    expect(groups.map((group) => [group.organisation.id, group.contacts.map((contact) => contact.email)])).toEqual([
      ['portail', ['claude.petit@portail.example.org']],
      ['provider-beta', ['alex.brown@provider-beta.example.org']],
    ])
  })

  test('several entries for one organisation make one group without duplicate addresses', () => {
    const groups = resolveRecipients(f.config, 'reporting-party:operations, self:operations, reporting-party:technicalLead', declared)
    expect(groups).toHaveLength(1)
    expect(groups[0].contacts.map((contact) => contact.email)).toEqual(['exploitation@portail.example.org', 'camille.martin@portail.example.org'])
  })

  test('a malformed entry is a JobInputError naming it', () => {
    expect(() => resolveRecipients(f.config, 'other-party:ceo, nobody:operations', declared)).toThrow(JobInputError)
    expect(() => resolveRecipients(f.config, 'other-party:ceo', declared)).toThrow(/other-party:ceo/)
  })

  test('an unknown service is a JobInputError', () => {
    expect(() => resolveRecipients(f.config, 'other-party:operations', { ...declared, service: 'nope' })).toThrow(/unknown service 'nope'/)
  })
})

describe('handle', () => {
  const headers = { template: 'incident-declared', recipients: 'other-party:operations' }

  test('sends one mail per recipient organisation, in its language, keyed by job key and organisation', async () => {
    const output = await handle({ ...declared, service: 'payments-beta' }, f.context({ key: '42', headers: { ...headers, recipients: 'both-parties:operations' } }))
    expect(f.mailer.sent.map((mail) => [mail.idempotencyKey, mail.lang, mail.to])).toEqual([
      [idempotencyKey(declared.incidentId, '42', 'portail'), 'fr', ['exploitation@portail.example.org']],
      [idempotencyKey(declared.incidentId, '42', 'provider-beta'), 'en', ['servicedesk@provider-beta.example.org']],
    ])
    expect(output).toEqual({ messageIds: [expect.stringMatching(/^<.+@raccord\.portail>$/), expect.stringMatching(/^<.+@raccord\.portail>$/)] })
    expect(Object.keys(output)).toEqual(['messageIds'])
  })

  test('fills the template from the variables: targets from the declaration time and the priority', async () => {
    await handle(declared, f.context({ headers }))
    expect(f.mailer.sent[0]).toMatchObject({
      template: 'incident-declared',
      data: {
        reference: 'INC-20250314-0001',
        service: 'Démarches en ligne Alpha',
        priority: 'P2',
        declaringParty: 'Portail citoyen',
        declaredAt: '2025-03-14T08:00:00.000Z',
        responseDueAt: '2025-03-14T09:00:00.000Z',
        resolutionDueAt: '2025-03-14T16:00:00.000Z',
        contact: { email: 'exploitation@portail.example.org', phone: '+33 1 00 00 00 01' },
      },
    })
  })

  test('appends each mail with its Message-ID to the trace, and records the priority (INC-2, INC-3)', async () => {
    const { messageIds } = await handle(declared, f.context({ headers }))
    const entries = f.trace.entries(declared.incidentId)
    expect(entries).toEqual([
      expect.objectContaining({ event: 'notification-sent', actor: 'raccord', messageId: messageIds[0], at: NOW.toISOString() }),
    ])
    expect(entries[0].detail).toMatchObject({ template: 'incident-declared', organisation: 'fournisseur-alpha' })
    expect(f.trace.incident(declared.incidentId)?.priority).toBe('P2')
  })

  test('the same job key on another incident (a fresh engine numbers jobs again) is another mail', async () => {
    f.trace.openIncident({ ...f.trace.requireIncident(declared.incidentId), id: 'INC-20250314-0003' })
    const first = await handle(declared, f.context({ key: '7', headers }))
    const other = await handle({ ...declared, incidentId: 'INC-20250314-0003' }, f.context({ key: '7', headers }))
    expect(other.messageIds).not.toEqual(first.messageIds)
    expect(f.mailer.sent).toHaveLength(2)
  })

  test('a job handled twice sends once and traces once, with the same Message-IDs', async () => {
    const first = await handle(declared, f.context({ key: '7', headers }))
    const second = await handle(declared, f.context({ key: '7', headers }))
    expect(second).toEqual(first)
    expect(f.mailer.sent).toHaveLength(1)
    expect(f.trace.entries(declared.incidentId)).toHaveLength(1)
  })

  test('the resolution mail marks the incident restored', async () => {
    const resolved = { ...declared, resolutionKind: 'workaround' as const, resolutionSummary: 'Bascule sur le site de secours', restoredAt: '2025-03-14T10:30:00+01:00' }
    await handle(resolved, f.context({ headers: { template: 'incident-resolved', recipients: 'both-parties:operations' } }))
    expect(f.mailer.sent[0].data).toMatchObject({ resolution: 'workaround', summary: 'Bascule sur le site de secours', resolvedAt: '2025-03-14T10:30:00+01:00' })
    expect(f.trace.incident(declared.incidentId)).toMatchObject({ state: 'restored', restoredAt: '2025-03-14T10:30:00+01:00' })
  })

  test('the breach mail names the directors it escalates to', async () => {
    await handle(declared, f.context({ headers: { template: 'incident-sla-breached', recipients: 'both-parties:directors' } }))
    expect(f.mailer.sent[0].data).toMatchObject({ target: 'resolution', dueAt: '2025-03-14T16:00:00.000Z', escalatedTo: ['Claude Petit', 'Jean Moreau'] })
  })

  test('INC-3: with the header target=response, the breach mail is about the response target, due at declaration + response target', async () => {
    await handle(declared, f.context({ headers: { template: 'incident-sla-breached', target: 'response', recipients: 'reporting-party:operations, reporting-party:directors' } }))
    expect(f.mailer.sent[0].data).toMatchObject({ target: 'response', dueAt: addDuration(declared.declaredAt ?? '', declared.priority.responseTarget) })
  })

  test('a target header other than response or resolution is a JobInputError naming it', async () => {
    await expect(handle(declared, f.context({ headers: { template: 'incident-sla-breached', target: 'reply', recipients: 'both-parties:directors' } })))
      .rejects.toThrow("task header target: 'reply' is not one of response, resolution")
  })

  test('without declaredAt, the declaration time of the trace is used', async () => {
    await handle({ ...declared, declaredAt: undefined }, f.context({ headers: { template: 'incident-sla-reminder', recipients: 'reporting-party:operations' } }))
    expect(f.mailer.sent[0].data).toMatchObject({ dueAt: '2025-03-14T16:00:00.000Z' })
  })

  test('an unknown template or a missing header is a JobInputError', async () => {
    await expect(handle(declared, f.context({ headers: { template: 'nope', recipients: 'other-party:operations' } }))).rejects.toThrow(JobInputError)
    await expect(handle(declared, f.context({ headers: { template: 'incident-declared' } }))).rejects.toThrow(/task header 'recipients' is missing/)
  })

  test('an incident not in the trace is a JobInputError', async () => {
    await expect(handle({ ...declared, incidentId: 'INC-0' }, f.context({ headers }))).rejects.toThrow(/'INC-0' is not in the trace/)
  })

  test('mailer failures propagate for index.ts to classify', async () => {
    f.mailer.failWith = new TemplateDataError('incident-resolved', ['summary: Required'])
    await expect(handle(declared, f.context({ headers }))).rejects.toThrow(TemplateDataError)
    expect(f.trace.entries(declared.incidentId)).toEqual([])
  })
})

test('the input schema lists exactly the variables the worker fetches', () => {
  expect(Object.keys(inputSchema.shape).sort()).toEqual(
    ['declaredAt', 'description', 'impact', 'incidentId', 'priority', 'reportingOrganisation', 'resolutionKind', 'resolutionSummary', 'restoredAt', 'service', 'title', 'urgency'],
  )
})
