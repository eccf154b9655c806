/**
 * trace-exchange, every path, from either side: authorised and unauthorised senders and
 * receivers, the letter, its dispatch, the reminder, the answer with its checksum (real workers,
 * real SMTP on loopback, the security trace in a temporary dir).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { TraceRequestData } from '../../src/app/traces/trace-requests'
import type { ProcessInstanceRef, Variables } from '../support/process-harness'
import { mailsMatching, PROCESSES, securityFixture } from './security-fixture'

const forms = readdirSync(join(PROCESSES, 'forms')).map((file) => `forms/${file}`)
const f = securityFixture(['trace-exchange.bpmn', ...forms])

/** Authorised in the example configuration: Alix Robert (portail, sender and receiver), Sacha Durand (alpha), Jordan Smith (beta). */
const ALIX = { organisation: 'portail', name: 'Alix Robert' }
const SACHA = { organisation: 'fournisseur-alpha', name: 'Sacha Durand' }
const JORDAN = { organisation: 'provider-beta', name: 'Jordan Smith' }
/** Named contacts, but not trace contacts. */
const CAMILLE = { organisation: 'portail', name: 'Camille Martin' }
const MORGAN = { organisation: 'fournisseur-alpha', name: 'Morgan Leroy' }

const ARCHIVE_SHA256 = createHash('sha256').update('traces-2025-03.tar.gz').digest('hex')

function newId(): string {
  return `TRQ-PT-${randomBytes(4).toString('hex')}`
}

function request(traceRequestId: string, overrides: Variables = {}): Variables {
  return {
    traceRequestId,
    direction: 'outgoing',
    requester: ALIX,
    recipient: SACHA,
    services: ['demarches-alpha'],
    period: { from: '2025-03-01T00:00:00+01:00', to: '2025-03-08T00:00:00+01:00' },
    purpose: 'Analyse de tentatives de connexion suspectes sur le raccordement',
    registeredBy: 'Centre de services du portail',
    selfOrganisation: 'portail',
    answerDelay: 'P30D',
    ...overrides,
  }
}

const record = (id: string) => f.store.require<TraceRequestData>(id)
const events = (id: string) => f.store.events(id).map((event) => event.event)

async function dispatched(variables: Variables): Promise<ProcessInstanceRef> {
  const instance = await f.h.startProcess('trace-exchange', variables)
  await f.h.completeUserTask(instance, 'dispatch-letter', { dispatchedAt: new Date(f.h.now()).toISOString(), postalReference: '1A 234 567 8901 2' })
  await f.h.expectInstance(instance).toBeWaitingAt('record-answer')
  return instance
}

const answer = (answerRecordedBy: string) => ({
  answeredAt: '2025-03-20T10:00:00+01:00',
  answerRecordedBy,
  delivered: 'Journaux du frontal et de la passerelle, 1er au 8 mars',
  traceFormat: 'syslog-rfc5424',
  traceFormatVersion: 'RFC 5424',
  archiveChecksum: `sha256:${ARCHIVE_SHA256.toUpperCase()}`,
})

describe('TRC-2: only authorised contacts send and receive trace requests', () => {
  test('TRC-1, TRC-2: an authorised sender to an authorised receiver: the letter is produced and waits for its dispatch', async () => {
    // given
    const id = newId()
    // when
    const instance = await f.h.startProcess('trace-exchange', request(id))
    // then
    await f.h.expectInstance(instance).toBeWaitingAt('dispatch-letter')
    await f.h.expectInstance(instance).toHaveVariable('contactCheck', { authorised: true, problems: [] })
    const task = await f.h.userTask(instance, 'dispatch-letter')
    expect(task.candidateGroups).toEqual(['portail-security'])
    expect(record(id).state).toBe('letter-produced')
    expect(events(id)).toEqual(['trace-request-registered', 'letter-produced'])
  })

  test.each([
    ['an unauthorised sender', { requester: CAMILLE }, /Camille Martin is not an authorised trace-request sender of Portail citoyen/],
    ['an unauthorised receiver', { recipient: MORGAN }, /Morgan Leroy is not an authorised trace-request receiver of Fournisseur Alpha/],
    ['an unauthorised sender of the other party (incoming)', { direction: 'incoming', requester: { organisation: 'provider-beta', name: 'Robin Taylor' }, recipient: ALIX }, /Robin Taylor is not an authorised trace-request sender of Beta Services/],
  ])('TRC-2: %s: the request is refused and the refusal recorded', async (_case, overrides, reason) => {
    // given
    const id = newId()
    // when
    const instance = await f.h.startProcess('trace-exchange', request(id, overrides as Variables))
    // then
    await f.h.expectInstance(instance).toBeCompleted()
    await f.h.expectInstance(instance).toHaveCompletedElements('record-refusal', 'request-refused')
    expect(record(id).state).toBe('refused')
    expect(record(id).data.refusal).toEqual([expect.stringMatching(reason)])
    expect(record(id).data.letterHtml).toBeUndefined()
    expect(events(id)).toEqual(['trace-request-registered', 'trace-request-refused'])
  })
})

describe('TRC-3: the request travels by post', () => {
  test('TRC-3: the outgoing request letter carries both postal addresses, the reference and what is asked', async () => {
    // given
    const id = newId()
    // when
    const instance = await f.h.startProcess('trace-exchange', request(id))
    await f.h.expectInstance(instance).toBeWaitingAt('dispatch-letter')
    // then
    const letter = record(id).data.letterHtml ?? ''
    expect(letter).toContain('<html lang="fr">')
    expect(letter).toContain('Alix Robert')
    expect(letter).toContain('Portail citoyen, sécurité<br>1 rue de l&#39;Exemple<br>75000 Paris')
    expect(letter).toContain('Sacha Durand')
    expect(letter).toContain('Fournisseur Alpha<br>10 avenue de l&#39;Exemple<br>69000 Lyon')
    expect(letter).toContain(`Référence\u00a0:</strong> ${id}`)
    expect(letter).toContain('Démarches en ligne Alpha')
    expect(letter).toContain('Analyse de tentatives de connexion suspectes')
    expect(letter).toContain("l&#39;annexe 4")
    expect(record(id).data.letterSha256).toBe(createHash('sha256').update(letter).digest('hex'))
  })

  test('TRC-1, TRC-3: an incoming request from an English-speaking provider gets an acknowledgement letter in English', async () => {
    // given
    const id = newId()
    // when
    const instance = await f.h.startProcess('trace-exchange', request(id, { direction: 'incoming', requester: JORDAN, recipient: ALIX, services: ['portail-web'] }))
    await f.h.expectInstance(instance).toBeWaitingAt('dispatch-letter')
    // then
    const letter = record(id).data.letterHtml ?? ''
    expect(letter).toContain('<html lang="en">')
    expect(letter).toContain('Acknowledgement of your request for traces')
    expect(letter).toContain('Jordan Smith')
    expect(letter).toContain('London EC1A 1AA')
    expect(letter).toContain('75000 Paris')
  })

  test('TRC-3: the dispatch is recorded with its date and postal reference', async () => {
    // given
    const id = newId()
    // when
    await dispatched(request(id))
    // then
    expect(record(id)).toMatchObject({ state: 'dispatched', data: { postalReference: '1A 234 567 8901 2' } })
    expect(events(id)).toEqual(['trace-request-registered', 'letter-produced', 'letter-dispatched'])
  })

  test('TRC-3: without an answer within the agreed delay, our trace contact is reminded', async () => {
    // given
    const id = newId()
    const instance = await dispatched(request(id, { answerDelay: 'P20D' }))
    // when
    await f.h.increaseTime('P20DT1M')
    // then
    const [reminder] = await mailsMatching(f.smtp, id, /Rappel : pas de réponse dans le délai convenu \(20\sjours\)/)
    expect(reminder.envelopeTo).toEqual(['alix.robert@portail.example.org'])
    expect(reminder.text).toContain("Fournisseur Alpha n'a pas encore répondu")
    await f.h.expectInstance(instance).toHaveCompletedElements('answer-overdue', 'send-answer-reminder')
    await f.h.expectInstance(instance).toBeWaitingAt('record-answer')
    expect(events(id)).toContain('answer-reminder-sent')
  })
})

describe('TRC-1: the answer is recorded with its format and checksum', () => {
  test('TRC-1, TRC-2: an authorised receiver records the answer: format, version and the archive checksum', async () => {
    // given
    const id = newId()
    const instance = await dispatched(request(id))
    // when
    await f.h.completeUserTask(instance, 'record-answer', answer('alix robert'))
    // then
    await f.h.expectInstance(instance).toBeCompleted()
    expect(record(id)).toMatchObject({
      state: 'answered',
      data: { answer: { recordedBy: 'alix robert', format: 'syslog-rfc5424', formatVersion: 'RFC 5424', archiveSha256: ARCHIVE_SHA256 } },
    })
    expect(events(id)).toEqual(['trace-request-registered', 'letter-produced', 'letter-dispatched', 'answer-recorded'])
  })

  test('TRC-2: an answer recorded by someone not authorised is refused, traced, and awaits an authorised receiver', async () => {
    // given
    const id = newId()
    const instance = await dispatched(request(id))
    // when
    await f.h.completeUserTask(instance, 'record-answer', answer('Camille Martin'))
    // then
    await f.h.expectInstance(instance).toHaveCompletedElements('answer-recorder-unauthorised', 'record-answer-refusal')
    await f.h.expectInstance(instance).toBeWaitingAt('record-answer')
    expect(events(id)).toEqual(['trace-request-registered', 'letter-produced', 'letter-dispatched', 'answer-refused'])
    expect(record(id).state).toBe('dispatched')
    // and an authorised receiver then records it
    await f.h.completeUserTask(instance, 'record-answer', answer('Alix Robert'))
    await f.h.expectInstance(instance).toBeCompleted()
    expect(record(id).state).toBe('answered')
  })
})
