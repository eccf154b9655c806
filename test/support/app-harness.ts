/**
 * The whole application for API tests: an embedded engine on free ports, the real workers, SMTP
 * to a sink on loopback, and the HTTP API on a free port over a temporary data dir.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { credentialsFrom } from '../../src/api/auth'
import { startApplication, type Application } from '../../src/wiring/application'
import type { ApiToken, Config } from '../../src/config'
import type { SmtpSink } from '../../src/notify'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from './engine-harness'
import { startTestSmtp } from './smtp-sink'
import { exampleConfig } from '../workers/fixtures'

/** What an API test starts the application with. */
export interface AppHarnessOptions {
  /** prefix of the temporary data dir's name */
  dataDirPrefix: string
  /** the value of each token's environment variable */
  tokens: Record<string, string>
  /** the example configuration's API tokens, by environment variable */
  apiTokens: ApiToken[]
  /** serve the SMTP sink's mails on /outbox */
  outbox?: boolean
  /** where the application logs; default silent */
  logger?: Logger
}

export interface AppHarness {
  engine: TestEngine
  client: TestClient
  /** the SMTP sink; a test that restarts it puts the new one here, so that close() closes it */
  smtp: SmtpSink
  app: Application
  dataDir: string
  /** the API's base URL, e.g. http://127.0.0.1:41234 */
  base: string
  /** Stops the application, the client, the sink and the engine, and removes the data dir. */
  close(): Promise<void>
}

export async function startAppHarness(options: AppHarnessOptions): Promise<AppHarness> {
  // Filled in as things start, so that a failed start stops what did start.
  const h: Partial<AppHarness> & Pick<AppHarness, 'close'> = { close: () => stop(h) }
  try {
    const engine = (h.engine = await startTestEngine())
    const client = (h.client = createTestClient(engine))
    const smtp = (h.smtp = await startTestSmtp())
    const dataDir = (h.dataDir = await mkdtemp(join(tmpdir(), options.dataDirPrefix)))
    const config: Config = { ...exampleConfig(), api: { port: 0, tokens: options.apiTokens } }
    const app = (h.app = await startApplication({
      config,
      credentials: credentialsFrom(config, options.tokens),
      camunda: client.camunda,
      smtpUrl: smtp.url,
      dataDir,
      logger: options.logger ?? pino({ level: 'silent' }),
      apiPort: 0,
      ...(options.outbox ? { outbox: smtp } : {}),
      workers: { pollIntervalMs: 50, backoffBaseMs: 10_000 },
    }))
    h.base = `http://127.0.0.1:${app.apiPort}`
    return h as AppHarness
  } catch (error) {
    await h.close()
    throw error
  }
}

async function stop(h: Partial<AppHarness>): Promise<void> {
  await h.app?.close()
  await h.client?.close()
  await h.smtp?.close()
  await h.engine?.close()
  if (h.dataDir) await rm(h.dataDir, { recursive: true, force: true })
}
