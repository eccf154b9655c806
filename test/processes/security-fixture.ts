/**
 * What the security process tests share: the example configuration, a security trace in a
 * temporary dir, mails over real SMTP to a sink on loopback, the harness with the real workers.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openInterconnectionCuts, type InterconnectionCuts } from '../../src/wiring/cut-wiring'
import { sdkProcessHandoff } from '../../src/engine-client/process-handoff'
import { SecurityStore } from '../../src/app/security/security-store'
import { TraceStore } from '../../src/app/incidents/trace-store'
import type { Config } from '../../src/config'
import { Mailer, type SmtpSink, type StoredMail } from '../../src/notify'
import { startWorkers, type JobServices, type RunningWorkers } from '../../workers'
import { processHarness, type ProcessHarness } from '../support/process-harness'
import { startTestSmtp } from '../support/smtp-sink'
import { exampleConfig } from '../workers/fixtures'

export const PROCESSES = join(__dirname, '../../processes')
const POLL_MS = 25
const WAIT_MS = 10_000
/** How long a negative check ("no mail yet") lets the engine and the workers run first. */
export const SETTLE_MS = 500

export interface SecurityFixture {
  config: Config
  smtp: SmtpSink
  store: SecurityStore
  /** the cut trail and the status page, for the cuts a vulnerability starts (SEC-4) */
  interconnection: InterconnectionCuts
  h: ProcessHarness
}

/** Registers beforeAll/afterAll/beforeEach/afterEach; `models` are file names under processes/. */
export function securityFixture(models: string[]): SecurityFixture {
  const fixture = {} as SecurityFixture
  let dataDir: string
  let trace: TraceStore
  let mailer: Mailer
  let workers: RunningWorkers

  beforeAll(async () => {
    fixture.config = exampleConfig()
    fixture.smtp = await startTestSmtp()
    dataDir = await mkdtemp(join(tmpdir(), 'raccord-security-process-'))
    trace = TraceStore.open(dataDir)
    fixture.store = SecurityStore.open(dataDir)
    mailer = await Mailer.open({ smtpUrl: fixture.smtp.url, config: fixture.config, dataDir })
    fixture.interconnection = openInterconnectionCuts({ config: fixture.config, dataDir, env: {}, linkSecret: 'security-process-test-secret' })
  })

  afterAll(async () => {
    await mailer?.close()
    fixture.interconnection?.close()
    fixture.store?.close()
    trace?.close()
    await fixture.smtp?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    fixture.h = await processHarness()
    await fixture.h.deploy(...models.map((file) => join(PROCESSES, file)))
    const services: JobServices = {
      config: fixture.config, trace, security: fixture.store, mailer, now: () => new Date(fixture.h.now()),
      cuts: fixture.interconnection.cuts, status: fixture.interconnection.status, processes: sdkProcessHandoff(fixture.h.camunda),
    }
    workers = startWorkers(fixture.h.camunda.getZeebeGrpcApiClient(), services, { pollIntervalMs: 50, backoffBaseMs: 1000 })
  })

  afterEach(async () => {
    await workers?.close()
    await fixture.h?.close()
  })

  return fixture
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

/** Waits until at least `count` mails whose subject mentions `reference` and matches `subject` have arrived. */
export function mailsMatching(smtp: SmtpSink, reference: string, subject: RegExp, count = 1): Promise<StoredMail[]> {
  return waitFor(`${count} mail(s) '${subject}' about ${reference}`, () => {
    const found = smtp.list().filter((mail) => mail.subject.includes(reference) && subject.test(mail.subject))
    return found.length >= count ? found : undefined
  })
}
