/**
 * incident-management, every path, with the harness and the real workers: send-notification mails
 * over SMTP to a sink on loopback, record-trace writes the incident's trace in a temporary dir,
 * publish-status the status page's notices, and a suspected compromise starts interconnection-cut
 * through the real message. The trace, the cut trail and the notices are read through their
 * stores, never through the engine.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openInterconnectionCuts, type InterconnectionCuts } from '../../src/wiring/cut-wiring'
import { sdkProcessHandoff } from '../../src/engine-client/process-handoff'
import { sdkUserTaskLookup } from '../../src/engine-client/user-task-lookup'
import { TraceStore, type TraceEntry } from '../../src/app/incidents/trace-store'
import type { Config } from '../../src/config'
import { Mailer, type SmtpSink, type StoredMail } from '../../src/notify'
import { startWorkers, type JobServices, type RunningWorkers } from '../../workers'
import { processHarness, type ProcessHarness, type ProcessInstanceRef, type Variables } from '../support/process-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { statusSummary } from '../../src/status/status-page'
import { exampleConfig } from '../workers/fixtures'

const PROCESSES = join(__dirname, '../../processes')
const POLL_MS = 25
const WAIT_MS = 10_000
/** How long a negative check ("no mail yet") lets the engine and the workers run first. */
const SETTLE_MS = 500

/** The example configuration: portail (client, fr), fournisseur-alpha (provider, fr), provider-beta (provider, en). */
const PORTAIL_OPERATIONS = 'exploitation@portail.example.org'
const ALPHA_OPERATIONS = 'supervision@fournisseur-alpha.example.org'
const BETA_OPERATIONS = 'servicedesk@provider-beta.example.org'
const PORTAIL_DIRECTOR = 'claude.petit@portail.example.org'
const ALPHA_DIRECTOR = 'jean.moreau@fournisseur-alpha.example.org'

let config: Config
let smtp: SmtpSink
let dataDir: string
let trace: TraceStore
let mailer: Mailer
/** the cut trail and the status page's notices */
let interconnection: InterconnectionCuts

let h: ProcessHarness
let workers: RunningWorkers
/** Instances started by a message rather than by h.startProcess: the harness does not know them. */
let startedByMessage: ProcessInstanceRef[]

beforeAll(async () => {
  config = exampleConfig()
  smtp = await startTestSmtp()
  dataDir = await mkdtemp(join(tmpdir(), 'raccord-incident-process-'))
  trace = TraceStore.open(dataDir)
  mailer = await Mailer.open({ smtpUrl: smtp.url, config, dataDir })
  interconnection = openInterconnectionCuts({ config, dataDir, env: {}, linkSecret: 'incident-process-test-secret' })
})

afterAll(async () => {
  await mailer?.close()
  interconnection?.close()
  trace?.close()
  await smtp?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

beforeEach(async () => {
  h = await processHarness()
  const forms = (await readdir(join(PROCESSES, 'forms'))).map((file) => join(PROCESSES, 'forms', file))
  await h.deploy(join(PROCESSES, 'incident-management.bpmn'), join(PROCESSES, 'incident-priority.dmn'), join(PROCESSES, 'interconnection-cut.bpmn'), ...forms)
  // The services the application gives the workers (src/wiring/application.ts), on this test's trace and SMTP sink.
  const services: JobServices = {
    config, trace, mailer, now: () => new Date(), cuts: interconnection.cuts, status: interconnection.status, processes: sdkProcessHandoff(h.camunda),
    userTasks: sdkUserTaskLookup(h.camunda),
  }
  workers = startWorkers(h.camunda.getZeebeGrpcApiClient(), services, { pollIntervalMs: 50, backoffBaseMs: 1000 })
  startedByMessage = []
})

afterEach(async () => {
  await workers?.close()
  const zeebe = h.camunda.getZeebeGrpcApiClient()
  for (const ref of startedByMessage) {
    await zeebe.cancelProcessInstance(ref.processInstanceKey).catch((error: unknown) => {
      // an instance that already ended cannot be canceled: that is the expected case
      if ((error as { code?: unknown }).code !== 5) throw error
    })
  }
  await h?.close()
})

/** A unique incident id per test: mails and trace entries are told apart by it. */
function newIncidentId(): string {
  return `INC-PT-${randomBytes(4).toString('hex')}`
}

/** The variables the API gives a declared incident (src/app/incidents/incidents.ts). */
function declaration(incidentId: string, overrides: Partial<Record<'title' | 'service' | 'impact' | 'urgency' | 'reportingOrganisation', string>> = {}): Variables {
  return {
    incidentId,
    title: 'Démarches Alpha indisponibles',
    description: 'Erreur 502 à la soumission des formulaires',
    service: 'demarches-alpha',
    impact: 'high',
    urgency: 'medium',
    declaredBy: 'Centre de services du portail',
    reportingOrganisation: 'portail',
    ...overrides,
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

/** The mails about one incident, in arrival order: every template puts the reference in the subject. */
function mailsAbout(incidentId: string): StoredMail[] {
  return smtp.list().filter((mail) => mail.subject.includes(incidentId))
}

/** Waits until at least `count` mails whose subject matches have arrived, and returns them. */
function mailsMatching(incidentId: string, subject: RegExp, count: number): Promise<StoredMail[]> {
  return waitFor(`${count} mail(s) '${subject}' about ${incidentId}`, () => {
    const found = mailsAbout(incidentId).filter((mail) => subject.test(mail.subject))
    return found.length >= count ? found : undefined
  })
}

function traceOf(incidentId: string): TraceEntry[] {
  return trace.entries(incidentId)
}

/** Starts the process as the API does, and waits until the responsible team has its restoration task. */
async function declare(variables: Variables): Promise<ProcessInstanceRef> {
  const incident = await h.startProcess('incident-management', variables)
  await h.expectInstance(incident).toBeWaitingAt('restore-service')
  return incident
}

/** Someone of the responsible team takes the restoration task, as Tasklist assigns it: the incident is acknowledged. */
async function acknowledge(incident: ProcessInstanceRef, assignee: string): Promise<void> {
  const task = await h.userTask(incident, 'restore-service')
  await h.camunda.getCamundaRestClient().assignUserTask({ userTaskKey: task.userTaskKey, assignee })
}

const restoration = {
  resolutionKind: 'workaround',
  resolutionSummary: 'Bascule sur le serveur de secours du fournisseur',
  restoredAt: '2025-03-14T16:45:00+01:00',
}

describe('INC-3: priority from impact x urgency (the incident-priority decision)', () => {
  /** The ITIL matrix and the example targets of ../shared/spec/domain-references.md; reminders at 75% of resolution. */
  const cells = [
    ['high', 'high', 'P1', 'PT15M', 'PT4H', 'PT3H'],
    ['high', 'medium', 'P2', 'PT1H', 'PT8H', 'PT6H'],
    ['high', 'low', 'P3', 'PT4H', 'PT24H', 'PT18H'],
    ['medium', 'high', 'P2', 'PT1H', 'PT8H', 'PT6H'],
    ['medium', 'medium', 'P3', 'PT4H', 'PT24H', 'PT18H'],
    ['medium', 'low', 'P4', 'PT8H', 'PT72H', 'PT54H'],
    ['low', 'high', 'P3', 'PT4H', 'PT24H', 'PT18H'],
    ['low', 'medium', 'P4', 'PT8H', 'PT72H', 'PT54H'],
    ['low', 'low', 'P4', 'PT8H', 'PT72H', 'PT54H'],
  ].map(([impact, urgency, priority, responseTarget, resolutionTarget, reminderAt]) => ({
    impact, urgency, priority, responseTarget, resolutionTarget, reminderAt, response: humanise(responseTarget), resolution: humanise(resolutionTarget),
  }))

  test.each(cells)('INC-3: $impact impact x $urgency urgency gives $priority with $response response and $resolution resolution', async ({ impact, urgency, priority, responseTarget, resolutionTarget, reminderAt }) => {
    // given
    const incidentId = newIncidentId()
    // when
    const incident = await declare(declaration(incidentId, { impact, urgency }))
    // then
    await h.expectInstance(incident).toHaveVariable('priority', { priority, responseTarget, resolutionTarget, reminderAt })
    const task = await h.userTask(incident, 'restore-service')
    expect(Date.parse(task.dueDate ?? '')).toBe(h.now() + durationMs(resolutionTarget))
    const [mail] = await mailsMatching(incidentId, /déclaré/, 1)
    expect(mail.subject.startsWith(`[${priority}] `)).toBe(true)
    expect(trace.requireIncident(incidentId).priority).toBe(priority)
  })
})

/** Milliseconds of a PT..H or PT..M duration of the decision table. */
function durationMs(duration: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(duration)
  if (!match) throw new Error(`unexpected duration ${duration}`)
  return (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60_000
}

/** PT15M as "15 min", PT8H as "8 h", for test names. */
function humanise(duration: string): string {
  const minutes = durationMs(duration) / 60_000
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`
}

describe('INC-4: the other party learns of the incident by email', () => {
  test.each([
    ['the client declares on a provider service', 'portail', 'demarches-alpha', ALPHA_OPERATIONS, '[P2] Incident %s déclaré : Démarches Alpha indisponibles'],
    ['the client declares on an English-speaking provider service', 'portail', 'payments-beta', BETA_OPERATIONS, '[P2] Incident %s declared: Démarches Alpha indisponibles'],
    ['a provider declares on its own service', 'provider-beta', 'payments-beta', PORTAIL_OPERATIONS, '[P2] Incident %s déclaré : Démarches Alpha indisponibles'],
  ])('INC-4: %s: the other party\'s operations team gets the declaration mail in its own language', async (_case, reportingOrganisation, service, recipient, subject) => {
    // given
    const incidentId = newIncidentId()
    // when
    const incident = await declare(declaration(incidentId, { reportingOrganisation, service }))
    // then
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('incident-declared', 'record-declaration', 'evaluate-priority', 'notify-other-party')
    const [mail] = await mailsMatching(incidentId, /./, 1)
    expect(mail.envelopeTo).toEqual([recipient])
    expect(mail.subject).toBe(subject.replace('%s', incidentId))
    expect(mail.text).toContain('Erreur 502 à la soumission des formulaires')
    await settle()
    expect(mailsAbout(incidentId)).toHaveLength(1)
  })
})

describe('INC-1: restoration by a workaround or a fix, then closure', () => {
  test.each([
    ['workaround', 'contournement'],
    ['fix', 'correction définitive'],
  ])('INC-1: restoring service by a %s completes restore-service, mails both parties, and close-incident closes it', async (resolutionKind, wording) => {
    // given
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId))
    const task = await h.userTask(incident, 'restore-service')
    expect(task.candidateGroups).toEqual(['portail-operations'])
    // when
    await h.completeUserTask(incident, 'restore-service', { ...restoration, resolutionKind })
    // then
    await h.expectInstance(incident).toBeWaitingAt('close-incident')
    const resolved = await mailsMatching(incidentId, /résolu/, 2)
    expect(resolved.flatMap((mail) => mail.envelopeTo).sort()).toEqual([ALPHA_OPERATIONS, PORTAIL_OPERATIONS].sort())
    for (const mail of resolved) {
      expect(mail.subject).toBe(`[P2] Incident ${incidentId} résolu : Démarches Alpha indisponibles`)
      expect(mail.text).toContain(`Le service est rétabli (${wording})`)
      expect(mail.text).toContain(restoration.resolutionSummary)
    }
    expect(trace.requireIncident(incidentId).state).toBe('restored')

    // when
    await h.completeUserTask(incident, 'close-incident', { rootCause: 'Certificat expiré sur le frontal du fournisseur', closureConfirmed: true })
    // then
    await h.expectInstance(incident).toBeCompleted()
    await h.expectInstance(incident).toHaveCompletedElementsInOrder(
      'incident-declared', 'declaration-received', 'record-declaration', 'evaluate-priority', 'notify-other-party',
      'restore-service', 'notify-resolution', 'close-incident', 'record-closure', 'incident-closed',
    )
    expect(trace.requireIncident(incidentId).state).toBe('closed')
    expect(mailsAbout(incidentId)).toHaveLength(3)
  })
})

describe('INC-3: SLA timers on the restoration task', () => {
  test('INC-3: response target missed: nobody took a P1 within 15 minutes, so its team and directors are told; restoration goes on', async () => {
    // given a P1 declared by the client: 15 min to respond
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId, { impact: 'high', urgency: 'high' }))
    await mailsMatching(incidentId, /déclaré/, 1)
    // when nobody takes it for 14 minutes
    await h.increaseTime('PT14M')
    // then
    await settle()
    expect(mailsAbout(incidentId).filter((mail) => /dépassée/.test(mail.subject))).toEqual([])
    // when the 15th minute passes
    await h.increaseTime('PT2M')
    // then
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('response-target', 'check-acknowledgement', 'acknowledged-in-time', 'escalate-missed-response', 'missed-response-escalated')
    await h.expectInstance(incident).toHaveVariable('acknowledgement', { acknowledged: false, by: null, at: null })
    const [escalation] = await mailsMatching(incidentId, /prise en charge dépassée/, 1)
    expect(escalation.subject).toBe(`[P1] Échéance de prise en charge dépassée pour l'incident ${incidentId}`)
    expect(escalation.envelopeTo.sort()).toEqual([PORTAIL_OPERATIONS, PORTAIL_DIRECTOR].sort())
    expect(escalation.text).toMatch(/Escaladé à\s*:?\s*Centre de services du portail, Claude Petit/)
    expect(traceOf(incidentId).some((entry) => entry.event === 'notification-sent' && (entry.detail as { elementId?: string }).elementId === 'escalate-missed-response')).toBe(true)
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
  })

  test('INC-3: response in time: the team took the incident (assigned in Tasklist) before its response target: nobody is escalated to', async () => {
    // given a P2 declared by the client: 1 h to respond
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId, { impact: 'high', urgency: 'medium' }))
    await mailsMatching(incidentId, /déclaré/, 1)
    // when someone of the responsible team takes it, then the hour passes
    await acknowledge(incident, 'Centre de services du portail')
    await h.increaseTime('PT1H1M')
    // then
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('response-target', 'check-acknowledgement', 'acknowledged-in-time', 'response-in-time')
    await h.expectInstance(incident).toHaveVariable('acknowledgement', { acknowledged: true, by: 'Centre de services du portail', at: null })
    await settle()
    expect(mailsAbout(incidentId).filter((mail) => /dépassée/.test(mail.subject))).toEqual([])
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
  })

  test('INC-3: SLA reminder at 75% of the resolution target: no mail just before, a reminder just after, and the task stays open', async () => {
    // given a P1: 4 h to resolve, reminded at 3 h
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId, { impact: 'high', urgency: 'high' }))
    await mailsMatching(incidentId, /déclaré/, 1)
    await acknowledge(incident, 'Équipe d\'astreinte')
    // when
    await h.increaseTime('PT2H59M')
    // then
    await settle()
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
    expect(mailsAbout(incidentId).filter((mail) => /Rappel/.test(mail.subject))).toEqual([])
    // when
    await h.increaseTime('PT2M')
    // then
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('sla-reminder', 'send-sla-reminder', 'sla-reminder-sent')
    const [reminder] = await mailsMatching(incidentId, /Rappel/, 1)
    expect(reminder.envelopeTo).toEqual([PORTAIL_OPERATIONS])
    expect(reminder.subject).toBe(`[P1] Rappel : échéance de résolution proche pour l'incident ${incidentId}`)
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
    await settle()
    expect(mailsAbout(incidentId).filter((mail) => /Rappel|dépassée/.test(mail.subject))).toHaveLength(1)
  })

  test('INC-3: SLA breach: past the resolution target both parties\' directors are told, and restoration goes on to closure', async () => {
    // given a P1: 4 h to resolve
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId, { impact: 'high', urgency: 'high' }))
    await acknowledge(incident, 'Équipe d\'astreinte')
    // when
    await h.increaseTime('PT4H1M')
    // then
    await h.expectInstance(incident).toHaveCompletedElements('sla-reminder-sent', 'sla-breach', 'escalate-sla-breach', 'sla-breach-escalated')
    const breached = await mailsMatching(incidentId, /résolution dépassée/, 2)
    expect(breached.flatMap((mail) => mail.envelopeTo).sort()).toEqual([PORTAIL_DIRECTOR, ALPHA_DIRECTOR].sort())
    for (const mail of breached) expect(mail.subject).toBe(`[P1] Échéance de résolution dépassée pour l'incident ${incidentId}`)
    await h.expectInstance(incident).toBeWaitingAt('restore-service')

    // when the team restores service an hour late (a later engine instant, so the order shows), then closes
    await h.increaseTime('PT5H1M')
    await h.completeUserTask(incident, 'restore-service', { ...restoration, resolutionKind: 'fix' })
    await h.completeUserTask(incident, 'close-incident', { rootCause: 'Saturation du stockage', closureConfirmed: true })
    // then
    await h.expectInstance(incident).toBeCompleted()
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('sla-breach', 'escalate-sla-breach', 'restore-service', 'notify-resolution', 'close-incident', 'incident-closed')
  })
})

describe('INC-2: declared by another process', () => {
  test('INC-2: the message incident-declared, correlated by the incident id, runs the process', async () => {
    // given
    const incidentId = newIncidentId()
    // when
    await h.publishMessage('incident-declared', incidentId, declaration(incidentId, { service: 'payments-beta' }))
    // then
    const processInstanceKey = await waitFor('the incident in the trace with its process instance', () => trace.incident(incidentId)?.processInstanceKey)
    const incident = { processInstanceKey, processDefinitionId: 'incident-management' }
    startedByMessage.push(incident)
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
    await h.expectInstance(incident).toHaveCompletedElementsInOrder(
      'incident-declared-by-message', 'declaration-received', 'record-declaration', 'evaluate-priority', 'notify-other-party',
    )
    const [mail] = await mailsMatching(incidentId, /declared/, 1)
    expect(mail.envelopeTo).toEqual([BETA_OPERATIONS])
    expect(traceOf(incidentId).map((entry) => entry.event)).toEqual(['incident-declared', 'notification-sent'])
  })

  test('INC-2: a second declaration with the same incident id while the first runs starts no second process', async () => {
    // given
    const incidentId = newIncidentId()
    await h.publishMessage('incident-declared', incidentId, declaration(incidentId))
    const processInstanceKey = await waitFor('the incident in the trace with its process instance', () => trace.incident(incidentId)?.processInstanceKey)
    const incident = { processInstanceKey, processDefinitionId: 'incident-management' }
    startedByMessage.push(incident)
    await h.expectInstance(incident).toBeWaitingAt('restore-service')
    // when: not buffered, so it cannot start an instance once the first one ends
    await h.publishMessage('incident-declared', incidentId, declaration(incidentId), 0)
    // then
    await settle()
    expect(traceOf(incidentId).filter((entry) => entry.event === 'incident-declared')).toHaveLength(1)
    expect(mailsAbout(incidentId)).toHaveLength(1)
  })
})

describe('INC-2: the incident is traced', () => {
  test('INC-2: the trace holds the declaration, each mail with its Message-ID, and the closure', async () => {
    // given
    const incidentId = newIncidentId()
    const incident = await declare(declaration(incidentId))
    // when
    await h.completeUserTask(incident, 'restore-service', restoration)
    await h.completeUserTask(incident, 'close-incident', { rootCause: 'Certificat expiré sur le frontal du fournisseur', closureConfirmed: true })
    await h.expectInstance(incident).toBeCompleted()
    // then
    const entries = traceOf(incidentId)
    expect(entries.map((entry) => entry.event)).toEqual(['incident-declared', 'notification-sent', 'notification-sent', 'notification-sent', 'incident-closed'])
    const [declared, declarationMail, resolutionMail1, resolutionMail2, closed] = entries
    expect(declared).toMatchObject({
      actor: 'Centre de services du portail',
      detail: { title: 'Démarches Alpha indisponibles', service: 'demarches-alpha', impact: 'high', urgency: 'medium', reportingOrganisation: 'portail' },
    })
    expect(declarationMail.detail).toMatchObject({ template: 'incident-declared', organisation: 'fournisseur-alpha', to: [ALPHA_OPERATIONS], elementId: 'notify-other-party' })
    const resolutionMails = [resolutionMail1, resolutionMail2]
    expect(resolutionMails.map((entry) => entry.detail.organisation).sort()).toEqual(['fournisseur-alpha', 'portail'])
    for (const entry of resolutionMails) expect(entry.detail).toMatchObject({ template: 'incident-resolved', elementId: 'notify-resolution' })
    expect(closed).toMatchObject({ actor: 'portail-operations', detail: { rootCause: 'Certificat expiré sur le frontal du fournisseur' } })

    // each traced Message-ID is the one of a mail that arrived, and every mail is traced
    const mails = mailsAbout(incidentId)
    expect(mails).toHaveLength(3)
    expect(entries.filter((entry) => entry.messageId !== undefined).map((entry) => entry.messageId).sort()).toEqual(mails.map((mail) => mail.messageId).sort())
    for (const entry of entries) expect(Number.isNaN(Date.parse(entry.at))).toBe(false)

    expect(trace.requireIncident(incidentId)).toMatchObject({
      state: 'closed', priority: 'P2', processInstanceKey: incident.processInstanceKey, declaredBy: 'Centre de services du portail',
    })
  })
})

describe('CUT-1: an incident that is a suspected compromise cuts the interconnection', () => {
  /** The cut started by the incident's message, once interconnection-cut has opened it in the trail. */
  async function cutOf(incident: ProcessInstanceRef) {
    const cutIds = await waitFor('the cut ids of the incident', async () => {
      const ids = (await h.camunda.getCamundaRestClient().callApiEndpoint<Record<string, unknown>, { items: Array<{ name: string; value: string }> }>({
        method: 'POST', urlPath: 'variables/search', body: { filter: { processInstanceKey: incident.processInstanceKey, name: 'cutIds' } },
      })).items[0]?.value
      return ids === undefined ? undefined : (JSON.parse(ids) as string[])
    })
    expect(cutIds).toHaveLength(1)
    const cut = await waitFor(`cut ${cutIds[0]} in the trail with its process`, () => {
      const found = interconnection.cuts.store.cut(cutIds[0])
      return found?.processInstanceKey === undefined ? undefined : { ...found, processInstanceKey: found.processInstanceKey }
    })
    const instance = { processInstanceKey: cut.processInstanceKey, processDefinitionId: 'interconnection-cut' }
    startedByMessage.push(instance)
    return { cut, instance }
  }

  test('CUT-1: an incident declared as a suspected compromise starts a cut of the affected interconnection', async () => {
    // given
    const incidentId = newIncidentId()
    // when
    const incident = await declare({ ...declaration(incidentId, { urgency: 'low' }), suspectedCompromise: true })
    // then: the cut of alpha's production link runs on its own, keyed by a new cut id
    const { cut, instance } = await cutOf(incident)
    expect(cut).toMatchObject({ interconnectionId: 'alpha-prod', service: 'demarches-alpha', environment: 'production', origin: 'self', incidentId, requestedBy: 'Centre de services du portail' })
    expect(cut.reason).toContain(`incident ${incidentId}`)
    await h.expectInstance(instance).toHaveCompletedElementsInOrder('cut-requested-by-message', 'record-cut-request', 'publish-cut-notice', 'disable-interconnection')
    await h.expectInstance(instance).toBeWaitingAt('cut-by-hand')
    // and the incident goes on, with the cut in its trace (INC-2)
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('evaluate-priority', 'suspected-compromise', 'request-cut', 'compromise-handled', 'notify-other-party')
    expect(traceOf(incidentId).find((entry) => entry.event === 'cut-requested')).toMatchObject({ detail: { cutId: cut.id, interconnectionId: 'alpha-prod' } })
  })

  test('CUT-1: an incident not suspected of a compromise starts no cut', async () => {
    // given: declared without the flag, as other processes declare incidents
    const incidentId = newIncidentId()
    // when
    const incident = await declare(declaration(incidentId))
    // then
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('evaluate-priority', 'suspected-compromise', 'compromise-handled', 'notify-other-party')
    expect(interconnection.cuts.store.cuts().filter((cut) => cut.incidentId === incidentId)).toEqual([])
    expect(traceOf(incidentId).map((entry) => entry.event)).not.toContain('cut-requested')
  })

  test('CUT-1: a suspected compromise of a service no production interconnection carries is traced, with nothing to cut automatically', async () => {
    // given: the portal's own web site
    const incidentId = newIncidentId()
    // when
    const incident = await declare({ ...declaration(incidentId, { service: 'portail-web', urgency: 'low' }), suspectedCompromise: true })
    // then
    await h.expectInstance(incident).toHaveVariable('cutIds', [])
    const entry = traceOf(incidentId).find((candidate) => candidate.event === 'cut-not-requested')
    expect(entry?.detail.reason).toMatch(/No production interconnection carries the service 'portail-web'/)
  })
})

describe('USR-1: end users learn of a P1 incident on the status page', () => {
  const component = (id: string) => statusSummary(config, interconnection.status, 'http://status.test').components.find((candidate) => candidate.id === id)

  test('USR-1: a P1 incident opens a notice on its service\'s component and restoration resolves it', async () => {
    // given
    const incidentId = newIncidentId()
    // when
    const incident = await declare(declaration(incidentId, { impact: 'high', urgency: 'high' }))
    // then
    await h.expectInstance(incident).toHaveVariable('statusNoticeId', `incident:${incidentId}`)
    expect(interconnection.status.notice(`incident:${incidentId}`)).toMatchObject({ component: 'demarches-alpha', state: 'investigating', impact: 'critical', componentState: 'major_outage' })
    expect(component('demarches-alpha')?.status).toBe('major_outage')
    const [opened] = interconnection.status.updates(`incident:${incidentId}`)
    expect(opened.body).toContain('Démarches en ligne Alpha')
    expect(opened.body).not.toContain('502')

    // when
    await h.completeUserTask(incident, 'restore-service', restoration)
    // then
    await h.expectInstance(incident).toBeWaitingAt('close-incident')
    await h.expectInstance(incident).toHaveCompletedElementsInOrder('restore-service', 'publish-restoration-notice', 'notify-resolution')
    expect(interconnection.status.notice(`incident:${incidentId}`)).toMatchObject({ state: 'resolved' })
    expect(interconnection.status.updates(`incident:${incidentId}`).map((update) => update.state)).toEqual(['resolved', 'investigating'])
    expect(traceOf(incidentId).filter((entry) => entry.event === 'status-published').map((entry) => entry.detail.state)).toEqual(['investigating', 'resolved'])
  })

  test('USR-1: an incident below P1 publishes nothing on the status page', async () => {
    // given
    const incidentId = newIncidentId()
    // when: P2
    const incident = await declare(declaration(incidentId))
    await h.completeUserTask(incident, 'restore-service', restoration)
    // then
    await h.expectInstance(incident).toBeWaitingAt('close-incident')
    await h.expectInstance(incident).toHaveCompletedElements('publish-incident-notice', 'publish-restoration-notice')
    expect(interconnection.status.notice(`incident:${incidentId}`)).toBeUndefined()
  })
})
