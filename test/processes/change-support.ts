/**
 * What the change-management process tests share: the harness with the real workers, mails over
 * SMTP to a sink on loopback, and helpers for two-party gates (a user task per organisation).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sdkChangeEngine } from '../../src/engine-client/change-engine'
import { engineValidationRecords } from '../../src/app/changes/release-validation'
import { TraceStore } from '../../src/app/incidents/trace-store'
import { CutStore } from '../../src/app/cuts/cut-store'
import { linkControl } from '../../src/app/cuts/link-control'
import { LinkSigner } from '../../src/app/cuts/signed-links'
import type { Config } from '../../src/config'
import { Mailer, type SmtpSink, type StoredMail } from '../../src/notify'
import { StatusStore } from '../../src/status/status-store'
import { startWorkers, type JobServices, type RunningWorkers } from '../../workers'
import { processHarness, type ProcessHarness, type ProcessInstanceRef, type UserTaskView, type Variables } from '../support/process-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

export const PROCESSES = join(__dirname, '../../processes')
const POLL_MS = 25
const WAIT_MS = 10_000
/** How long a negative check ("no mail yet") lets the engine and the workers run first. */
export const SETTLE_MS = 500

/** Contacts of the example configuration. */
export const MAIL = {
  portailTechnical: 'camille.martin@portail.example.org',
  portailFunctional: 'dominique.bernard@portail.example.org',
  portailOperations: 'exploitation@portail.example.org',
  portailDirector: 'claude.petit@portail.example.org',
  alphaTechnical: 'sacha.durand@fournisseur-alpha.example.org',
  alphaFunctional: 'morgan.leroy@fournisseur-alpha.example.org',
  alphaOperations: 'supervision@fournisseur-alpha.example.org',
  alphaDirector: 'jean.moreau@fournisseur-alpha.example.org',
  betaTechnical: 'robin.taylor@provider-beta.example.org',
  betaOperations: 'servicedesk@provider-beta.example.org',
} as const

export interface ChangeTestContext {
  h: ProcessHarness
  smtp: SmtpSink
  trace: TraceStore
  /** the public status page's notices (a service opened is announced there) */
  status: StatusStore
  /** the cut trail: a pre-production link is not reactivated while its interconnection is cut (CUT-1, CRI-3) */
  cuts: CutStore
  config: Config
}

/**
 * Registers jest hooks: one SMTP sink, trace and mailer per file; a fresh harness with the real
 * workers per test, on which `models` (file names under processes/) and every form are deployed.
 */
export function useChangeProcesses(models: string[], configure: (config: Config) => Config = (config) => config): ChangeTestContext {
  const context = {} as ChangeTestContext
  let dataDir: string
  let mailer: Mailer
  let workers: RunningWorkers

  beforeAll(async () => {
    context.config = configure(exampleConfig())
    context.smtp = await startTestSmtp()
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-change-process-'))
    context.trace = TraceStore.open(dataDir)
    context.status = StatusStore.open(dataDir)
    context.cuts = CutStore.open(dataDir)
    mailer = await Mailer.open({ smtpUrl: context.smtp.url, config: context.config, dataDir })
  })

  afterAll(async () => {
    await mailer?.close()
    context.status?.close()
    context.cuts?.close()
    context.trace?.close()
    await context.smtp?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    context.h = await processHarness()
    const forms = (await readdir(join(PROCESSES, 'forms'))).map((file) => join(PROCESSES, 'forms', file))
    await context.h.deploy(...models.map((model) => join(PROCESSES, model)), ...forms)
    const services: JobServices = {
      config: context.config, trace: context.trace, status: context.status, mailer, now: () => new Date(),
      validations: engineValidationRecords(sdkChangeEngine(context.h.camunda)),
      cuts: {
        store: context.cuts,
        links: new LinkSigner(randomBytes(32).toString('hex')),
        linkControl: linkControl({ env: {}, now: () => new Date() }),
        settings: context.config.interconnectionCuts,
        publicUrl: () => 'http://127.0.0.1',
      },
    }
    workers = startWorkers(context.h.camunda.getZeebeGrpcApiClient(), services, { pollIntervalMs: 50, backoffBaseMs: 1000 })
  })

  afterEach(async () => {
    await workers?.close()
    await context.h?.close()
  })

  return context
}

/** A unique reference per test: mails are told apart by it. */
export function newReference(prefix: string): string {
  return `${prefix}-T-${randomBytes(4).toString('hex')}`
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

export const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

/** The mails about one reference, in arrival order: every change mail puts it in the subject. */
export function mailsAbout(smtp: SmtpSink, reference: string, subject: RegExp = /./): StoredMail[] {
  return smtp.list().filter((mail) => mail.subject.includes(`[${reference}]`) && subject.test(mail.subject))
}

/** Waits until at least `count` mails about `reference` whose subject matches have arrived. */
export function mailsMatching(smtp: SmtpSink, reference: string, subject: RegExp, count: number): Promise<StoredMail[]> {
  return waitFor(`${count} mail(s) '${subject}' about ${reference}`, () => {
    const found = mailsAbout(smtp, reference, subject)
    return found.length >= count ? found : undefined
  })
}

export const recipientsOf = (mails: StoredMail[]) => mails.flatMap((mail) => mail.envelopeTo).sort()

/** Open user tasks of one element; a multi-instance element has one per instance. */
export async function openTasks(h: ProcessHarness, ref: ProcessInstanceRef, elementId: string, count = 1): Promise<UserTaskView[]> {
  const rest = h.camunda.getCamundaRestClient()
  return waitFor(`${count} open task(s) at ${elementId}`, async () => {
    const page = await rest.callApiEndpoint<Record<string, unknown>, { items: UserTaskView[] }>({
      method: 'POST', urlPath: 'user-tasks/search', body: { filter: { processInstanceKey: ref.processInstanceKey, elementId, state: 'CREATED' } },
    })
    return page.items.length >= count ? page.items : undefined
  })
}

/** Completes the open task of `elementId` offered to `candidateGroup` (one organisation's part of a gate). */
export async function completeTaskOf(h: ProcessHarness, ref: ProcessInstanceRef, elementId: string, candidateGroup: string, variables: Variables): Promise<void> {
  const task = await waitFor(`a task at ${elementId} for ${candidateGroup}`, async () => (await openTasks(h, ref, elementId)).find((candidate) => candidate.candidateGroups.includes(candidateGroup)))
  await h.camunda.getCamundaRestClient().callApiEndpoint({ method: 'POST', urlPath: `user-tasks/${task.userTaskKey}/completion`, body: { variables }, json: false })
}

export const approve: Variables = { decision: 'approve' }
export const refuse = (reasons: string): Variables => ({ decision: 'refuse', reasons })
export const done: Variables = { stepDone: true }

/** The ISO 8601 duration from the harness's pinned time to `instant`, for h.increaseTime. */
export function durationUntil(h: ProcessHarness, instant: string | number): string {
  const ms = (typeof instant === 'number' ? instant : Date.parse(instant)) - h.now()
  if (ms < 0) throw new Error(`${new Date(instant).toISOString()} is before the engine time`)
  return `PT${Math.round(ms / 1000)}S`
}
