/**
 * version-retention (CHG-8), by time travel: reminders one month and one week before the deadline,
 * retirement at the deadline through the portal's version adapter (a signed webhook to a local
 * server), never later; the 6-month cap; early retirement by either party; by hand, a retirement
 * task due at the deadline and a weekly escalation past it until n-1 is retired.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { addIsoDuration } from '../support/iso-duration'
import type { ProcessInstanceRef, Variables } from '../support/process-harness'
import { durationUntil, MAIL, mailsAbout, mailsMatching, newReference, recipientsOf, settle, useChangeProcesses, waitFor } from './change-support'

/** A date-time as FEEL writes it into a variable: the fraction of a second without trailing zeros. */
function asFeelDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/(\.\d*?)0+Z$/, '$1Z').replace('.Z', 'Z')
}

/** What the portal's version adapter received. */
const calls: Array<{ body: Record<string, unknown>; signature: string | undefined; idempotencyKey: string | undefined }> = []
const adapter = http.createServer((req, res) => {
  let raw = ''
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()))
  req.on('end', () => {
    calls.push({ body: JSON.parse(raw) as Record<string, unknown>, signature: req.headers['x-raccord-signature'] as string | undefined, idempotencyKey: req.headers['idempotency-key'] as string | undefined })
    res.writeHead(204).end()
  })
})
const SECRET_ENV = 'RACCORD_TEST_PORTAL_VERSIONS_SECRET'

beforeAll(async () => {
  process.env[SECRET_ENV] = 'a-secret-long-enough-for-hmac'
  await new Promise<void>((resolve) => adapter.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  delete process.env[SECRET_ENV]
  await new Promise((resolve) => adapter.close(resolve))
})

const t = useChangeProcesses(['version-retention.bpmn'], (config) => ({
  ...config,
  changes: {
    ...config.changes,
    adapters: { ...config.changes.adapters, portalVersions: { type: 'webhook', url: `http://127.0.0.1:${(adapter.address() as AddressInfo).port}/versions`, secretEnv: SECRET_ENV } },
  },
}))

function retention(reference: string, releasedAt: string, overrides: Variables = {}): Variables {
  return { reference, title: 'Nouveau parcours de dépôt', version: '5.0', previousVersion: '4.9', releasedAt, retentionMonths: 6, clientId: 'portail', providers: ['fournisseur-alpha', 'provider-beta'], ...overrides }
}

/** The deadline minus one calendar month, as FEEL subtracts P1M (the day clamped to the month's end). */
function oneMonthBefore(deadline: number): number {
  const date = new Date(deadline)
  const day = date.getUTCDate()
  date.setUTCDate(1)
  date.setUTCMonth(date.getUTCMonth() - 1)
  date.setUTCDate(Math.min(day, new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()))
  return date.getTime()
}

const reminders = (reference: string) => mailsAbout(t.smtp, reference, /retrait prochain|retires soon/)
const escalations = (reference: string) => mailsAbout(t.smtp, reference, /toujours en ligne|still online/)
const BETA_DIRECTOR = 'alex.brown@provider-beta.example.org'
const retiredBy = (reference: string) => calls.filter((call) => call.body.reference === reference)

async function start(reference: string, overrides: Variables = {}): Promise<{ ref: ProcessInstanceRef; deadline: number }> {
  const releasedAt = new Date(t.h.now()).toISOString()
  const ref = await t.h.startProcess('version-retention', retention(reference, releasedAt, overrides))
  await t.h.expectInstance(ref).toBeWaitingAt('one-month-before')
  return { ref, deadline: addIsoDuration(Date.parse(releasedAt), 'P6M') }
}

test('CHG-8: n-1 kept 6 months: reminders at 5 months and at 6 months minus 1 week, retirement by the adapter at 6 months, never later', async () => {
  // given
  const reference = newReference('CHG')
  const { ref, deadline } = await start(reference)
  const [announced] = await mailsMatching(t.smtp, reference, /maintien|kept online/, 2)
  expect(announced.text).toContain(`Sunset : ${new Date(deadline).toUTCString()}`)
  await t.h.expectInstance(ref).toHaveVariable('retirementDeadline', asFeelDateTime(deadline))

  // when: one minute before 5 months (the deadline minus one month)
  const fiveMonths = oneMonthBefore(deadline)
  await t.h.increaseTime(durationUntil(t.h, fiveMonths - 60_000))
  await settle()
  expect(reminders(reference)).toEqual([])
  // when: at 5 months
  await t.h.increaseTime('PT1M')
  // then the owner of n-1, its directors and the providers get the first reminder
  const first = await mailsMatching(t.smtp, reference, /retrait prochain|retires soon/, 3)
  expect(recipientsOf(first)).toEqual([MAIL.portailTechnical, MAIL.portailDirector, MAIL.alphaTechnical, MAIL.betaTechnical].sort())

  // when: one minute before 6 months minus one week
  const oneWeekBefore = deadline - 7 * 24 * 3_600_000
  await t.h.increaseTime(durationUntil(t.h, oneWeekBefore - 60_000))
  await settle()
  expect(reminders(reference)).toHaveLength(3)
  // when: at 6 months minus one week
  await t.h.increaseTime('PT1M')
  // then the second reminder
  await mailsMatching(t.smtp, reference, /retrait prochain|retires soon/, 6)
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('one-month-before', 'remind-one-month-before', 'one-week-before', 'remind-one-week-before')

  // when: one minute before the deadline, n-1 is still online
  await t.h.increaseTime(durationUntil(t.h, deadline - 60_000))
  await settle()
  await t.h.expectInstance(ref).toBeWaitingAt('retirement-deadline-reached')
  expect(retiredBy(reference)).toEqual([])
  // when: at the deadline
  await t.h.increaseTime('PT1M')
  // then the portal's adapter retires n-1 (signed, idempotent) and both parties are told
  const [call] = await waitFor('the adapter call', () => (retiredBy(reference).length > 0 ? retiredBy(reference) : undefined))
  expect(call.body).toMatchObject({ action: 'retire-previous-version', reference, previousVersion: '4.9' })
  expect(call.signature).toMatch(/^sha256=[0-9a-f]{64}$/)
  expect(call.idempotencyKey).toContain(reference)
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('retirement-deadline-reached', 'retire-previous-version', 'retired-by-adapter', 'announce-retirement', 'previous-version-retired')
  await mailsMatching(t.smtp, reference, /n-1 retirée|n-1 retired/, 3)
})

test('CHG-8: a retention agreed for 9 months is capped at 6: the deadline is the release plus P6M', async () => {
  // given
  const reference = newReference('CHG')
  // when
  const { ref, deadline } = await start(reference, { retentionMonths: 9 })
  // then
  await t.h.expectInstance(ref).toHaveVariable('retirementDeadline', asFeelDateTime(deadline))
  // A timer created with a due date already past waits for the next clock move: step date by date.
  for (const [at, next] of [[oneMonthBefore(deadline), 'one-month-before'], [deadline - 7 * 24 * 3_600_000, 'one-week-before'], [deadline, 'retirement-deadline-reached']] as const) {
    await t.h.expectInstance(ref).toBeWaitingAt(next)
    await t.h.increaseTime(durationUntil(t.h, at))
  }
  await t.h.expectInstance(ref).toBeCompleted()
  expect(retiredBy(reference)).toHaveLength(1)
})

test.each([
  ['the client', 'RACCORD_TOKEN_MANAGER (portail)'],
  ['a provider', 'RACCORD_TOKEN_ALPHA (fournisseur-alpha)'],
])('CHG-8: early retirement asked by %s retires n-1 at once, with no reminder left', async (_party, requestedBy) => {
  // given
  const reference = newReference('CHG')
  const { ref } = await start(reference)
  await t.h.increaseTime('P2M')
  // when
  await t.h.publishMessage('version-retirement-requested', reference, { retirementRequestedBy: requestedBy, retirementReason: 'Tous les usagers sont passés en 5.0' })
  // then
  await t.h.expectInstance(ref).toBeCompleted()
  await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('early-retirement-requested', 'retire-previous-version', 'announce-retirement')
  expect(retiredBy(reference)).toHaveLength(1)
  expect(reminders(reference)).toEqual([])
})

describe('CHG-8: no version adapter: the client\'s technical team retires n-1 by hand', () => {
  let adapters: typeof t.config.changes.adapters
  beforeEach(() => {
    adapters = t.config.changes.adapters
    t.config.changes.adapters = { ...adapters, portalVersions: { type: 'manual' } }
  })
  afterEach(() => {
    t.config.changes.adapters = adapters
  })

  test('CHG-8: given a manual adapter, when the deadline comes, then nothing is called, the client\'s technical team is asked to retire n-1, and both parties are told only once it confirms', async () => {
    // given
    const reference = newReference('CHG')
    const { ref, deadline } = await start(reference)
    for (const [at, next] of [[oneMonthBefore(deadline), 'one-month-before'], [deadline - 7 * 24 * 3_600_000, 'one-week-before']] as const) {
      await t.h.expectInstance(ref).toBeWaitingAt(next)
      await t.h.increaseTime(durationUntil(t.h, at))
    }
    await t.h.expectInstance(ref).toBeWaitingAt('retirement-deadline-reached')
    // when
    await t.h.increaseTime(durationUntil(t.h, deadline))
    // then
    await t.h.expectInstance(ref).toBeWaitingAt('retire-previous-version-manually')
    await t.h.expectInstance(ref).toHaveVariable('adapterOutcome', 'manual')
    expect((await t.h.userTask(ref, 'retire-previous-version-manually')).candidateGroups).toEqual(['portail-technical'])
    await settle()
    expect(retiredBy(reference)).toEqual([])
    expect(mailsAbout(t.smtp, reference, /n-1 retirée|n-1 retired/)).toEqual([])
    // when
    await t.h.completeUserTask(ref, 'retire-previous-version-manually', { stepDone: true, stepEvidence: 'Ticket EXP-1234' })
    // then
    await t.h.expectInstance(ref).toBeCompleted()
    await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('retire-previous-version', 'retired-by-adapter', 'retire-previous-version-manually', 'previous-version-gone', 'announce-retirement', 'previous-version-retired')
    const retired = await mailsMatching(t.smtp, reference, /n-1 retirée|n-1 retired/, 3)
    expect(recipientsOf(retired)).toEqual([MAIL.portailTechnical, MAIL.portailOperations, MAIL.alphaTechnical, MAIL.alphaOperations, MAIL.betaTechnical, MAIL.betaOperations].sort())
    expect(retiredBy(reference)).toEqual([])
  })

  test('CHG-8: given a manual adapter, the retirement task is due at the deadline; past it, the owner and both parties\' directors are mailed every 7 days until n-1 is retired', async () => {
    // given: the deadline reached, n-1 left to retire by hand
    const reference = newReference('CHG')
    const { ref, deadline } = await start(reference)
    for (const [at, next] of [[oneMonthBefore(deadline), 'one-month-before'], [deadline - 7 * 24 * 3_600_000, 'one-week-before'], [deadline, 'retirement-deadline-reached']] as const) {
      await t.h.expectInstance(ref).toBeWaitingAt(next)
      await t.h.increaseTime(durationUntil(t.h, at))
    }
    await t.h.expectInstance(ref).toBeWaitingAt('retire-previous-version-manually')
    // then the task carries the deadline: past it, the console shows it overdue
    const task = await t.h.userTask(ref, 'retire-previous-version-manually')
    expect(Date.parse(task.dueDate ?? '')).toBe(deadline)
    const reminded = await mailsMatching(t.smtp, reference, /retrait prochain|retires soon/, 6)
    expect([...new Set(recipientsOf(reminded))]).toEqual([MAIL.portailTechnical, MAIL.portailDirector, MAIL.alphaTechnical, MAIL.betaTechnical].sort())

    // when: one minute before a week past the deadline
    await t.h.increaseTime('P6DT23H59M')
    await settle()
    expect(escalations(reference)).toEqual([])
    // when: a week past the deadline
    await t.h.increaseTime('PT1M')
    // then the owner of n-1 and the directors of both parties are told, in their language
    const first = await mailsMatching(t.smtp, reference, /toujours en ligne|still online/, 3)
    expect(recipientsOf(first)).toEqual([MAIL.portailTechnical, MAIL.portailDirector, MAIL.alphaDirector, BETA_DIRECTOR].sort())
    const french = first.find((mail) => mail.envelopeTo.includes(MAIL.portailTechnical))
    expect(french?.subject).toContain("version n-1 toujours en ligne après l'échéance")
    expect(french?.text).toContain('La version 4.9 devait être retirée le')
    const english = first.find((mail) => mail.envelopeTo.includes(BETA_DIRECTOR))
    expect(english?.subject).toContain('version n-1 still online past its deadline')
    await t.h.expectInstance(ref).toBeWaitingAt('retire-previous-version-manually')

    // when: 18 days past the deadline, the escalation came again once, after 14 days
    await t.h.increaseTime('P7D')
    await mailsMatching(t.smtp, reference, /toujours en ligne|still online/, 6)
    await t.h.increaseTime('P4D')
    await settle()
    expect(escalations(reference)).toHaveLength(6)
    await t.h.expectInstance(ref).toHaveCompletedElements('retirement-overdue', 'escalate-overdue-retirement', 'overdue-retirement-escalated')

    // when n-1 is retired, the escalation stops
    await t.h.completeUserTask(ref, 'retire-previous-version-manually', { stepDone: true, stepEvidence: 'Ticket EXP-1235' })
    await t.h.expectInstance(ref).toBeCompleted()
    await t.h.increaseTime('P7D')
    await settle()
    expect(escalations(reference)).toHaveLength(6)
  })

  test('CHG-8: given a manual adapter, when a party asks for early retirement, then the retirement task comes at once and the reminders are cancelled', async () => {
    // given
    const reference = newReference('CHG')
    const { ref } = await start(reference)
    // when
    await t.h.publishMessage('version-retirement-requested', reference, { retirementRequestedBy: 'RACCORD_TOKEN_ALPHA (fournisseur-alpha)', retirementReason: 'Plus aucun usager en 4.9' })
    // then
    await t.h.expectInstance(ref).toBeWaitingAt('retire-previous-version-manually')
    // when
    await t.h.completeUserTask(ref, 'retire-previous-version-manually', { stepDone: true })
    // then
    await t.h.expectInstance(ref).toBeCompleted()
    await mailsMatching(t.smtp, reference, /n-1 retirée|n-1 retired/, 3)
    expect(reminders(reference)).toEqual([])
  })
})

describe('CHG-8: the party that does not operate version n-1 proposes its early retirement; the operator decides', () => {
  test('CHG-8: given a proposal, when the client\'s technical team keeps n-1 with its reasons, then the retention goes on; when it agrees to a second one, then n-1 is retired at once', async () => {
    // given
    const reference = newReference('CHG')
    const { ref } = await start(reference)
    // when
    await t.h.publishMessage('version-retirement-proposed', reference, { retirementProposedBy: 'Sacha Durand (fournisseur-alpha)', retirementProposalReason: 'Plus aucun appel en 4.9' })
    // then
    await t.h.expectInstance(ref).toBeWaitingAt('one-month-before', 'consider-early-retirement')
    expect((await t.h.userTask(ref, 'consider-early-retirement')).candidateGroups).toEqual(['portail-technical'])
    // when
    await t.h.completeUserTask(ref, 'consider-early-retirement', { earlyRetirementDecision: 'keep', earlyRetirementReasons: 'Deux partenaires appellent encore la 4.9' })
    // then
    await t.h.expectInstance(ref).toHaveCompletedElements('early-retirement-declined')
    await t.h.expectInstance(ref).toBeWaitingAt('one-month-before')
    expect(retiredBy(reference)).toEqual([])
    // when
    await t.h.publishMessage('version-retirement-proposed', reference, { retirementProposedBy: 'Sacha Durand (fournisseur-alpha)', retirementProposalReason: 'Les deux partenaires sont passés en 5.0' })
    await t.h.expectInstance(ref).toBeWaitingAt('one-month-before', 'consider-early-retirement')
    await t.h.completeUserTask(ref, 'consider-early-retirement', { earlyRetirementDecision: 'retire-now' })
    // then
    await t.h.expectInstance(ref).toBeCompleted()
    await t.h.expectInstance(ref).toHaveCompletedElementsInOrder('consider-early-retirement', 'early-retirement-agreed', 'early-retirement-agreed-by-operator', 'retire-previous-version', 'announce-retirement')
    expect(retiredBy(reference)).toHaveLength(1)
    expect(reminders(reference)).toEqual([])
  })
})
