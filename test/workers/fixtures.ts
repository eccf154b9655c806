/** What the worker tests share: the example configuration, a trace in a temporary dir, a mailer that records. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '../../src/config'
import { messageIdFor, type SendRequest, type SendResult, type TemplateId } from '../../src/notify'
import { TraceStore } from '../../src/app/incidents/trace-store'
import { SecurityStore } from '../../src/app/security/security-store'
import type { JobInfo } from '../../src/app/worker-kit/job-input'
import type { WorkerContext } from '../../src/app/worker-kit/worker-context'

const EXAMPLE_FILE = join(__dirname, '../../raccord.config.example.yaml')

/** A value for every token variable the example configuration names (both sides ship tokens). */
export function exampleTokens(): Record<string, string> {
  const names = [...readFileSync(EXAMPLE_FILE, 'utf8').matchAll(/tokenEnv: (RACCORD_TOKEN_[A-Z_]+)/g)].map((match) => match[1])
  return Object.fromEntries(names.map((name) => [name, `token-${name.toLowerCase()}`]))
}

export function exampleConfig(): Config {
  return loadConfig(EXAMPLE_FILE, exampleTokens())
}

/** Records each send; a key already sent answers duplicate, as the real Mailer does. */
export class RecordingMailer {
  readonly sent: SendRequest[] = []
  /** make the next sends throw this */
  failWith: Error | undefined

  async send<T extends TemplateId>(request: SendRequest<T>): Promise<SendResult> {
    if (this.failWith) throw this.failWith
    const messageId = messageIdFor(request.idempotencyKey, 'portail')
    const duplicate = this.sent.some((sent) => sent.idempotencyKey === request.idempotencyKey)
    if (!duplicate) this.sent.push(request as SendRequest)
    return { messageId, duplicate, accepted: request.to, rejected: [] }
  }
}

export interface WorkerFixture {
  config: Config
  trace: TraceStore
  security: SecurityStore
  mailer: RecordingMailer
  context(job: Partial<JobInfo> & { headers: Record<string, string> }): WorkerContext
  close(): void
}

export const NOW = new Date('2025-03-14T09:00:00.000Z')

export function workerFixture(): WorkerFixture {
  const dir = mkdtempSync(join(tmpdir(), 'raccord-workers-'))
  const config = exampleConfig()
  const trace = TraceStore.open(dir)
  const security = SecurityStore.open(dir)
  const mailer = new RecordingMailer()
  return {
    config,
    trace,
    security,
    mailer,
    context: (job) => ({
      config,
      trace,
      security,
      mailer,
      now: () => NOW,
      job: { key: '2251799813685300', processInstanceKey: '2251799813685249', elementId: 'notify-other-party', retries: 3, ...job },
    }),
    close: () => {
      security.close()
      trace.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
