/**
 * raccord on top of a running engine and SMTP server: the trace, the mailer, the processes
 * deployed, the job workers and the HTTP API. `raccord start` and the API tests both use this.
 */
import { readdirSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import type { Camunda8 } from '@camunda8/sdk'
import type { Logger } from 'pino'
import { createApiApp } from '../api/app'
import type { Credential } from '../api/auth'
import { ConsoleEngine } from '../console/engine'
import { consoleRouter } from '../console/router'
import type { Config } from '../config'
import { Mailer, type SendRequest, type SmtpSink, type TemplateId } from '../notify'
import { startWorkers, type RunningWorkers, type StartWorkersOptions } from '../../workers'
import { ChangeService, sdkChangeEngine } from './changes'
import { engineValidationRecords } from './release-validation'
import { statusRouter } from '../status/status-page'
import { CutService, sdkCutEngine } from './cuts'
import { openInterconnectionCuts } from './cut-wiring'
import { IncidentService } from './incidents'
import { createMetrics, type Metrics } from './metrics'
import { sdkProcessEngine } from './process-engine'
import { sdkProcessHandoff } from './process-handoff'
import { resumePendingStarts, sdkPendingStartEngine } from './pending-starts'
import { closeSecurityStoreOf, securityStoreOf } from './security-store'
import { withSecurityWatchCycle } from './security-watch'
import { TraceStore } from './trace-store'
import { TraceRequestService } from './trace-requests'
import { VulnerabilityService } from './vulnerabilities'
import type { WorkerServices } from './worker-context'

/** processes/ of this package: BPMN, DMN and forms, deployed together. */
export const PROCESSES_DIR = resolve(__dirname, '../../processes')

export interface ApplicationOptions {
  config: Config
  credentials: readonly Credential[]
  camunda: Camunda8
  smtpUrl: string
  /** holds the trace (raccord.db) and the record of sent mails */
  dataDir: string
  logger: Logger
  /** 0 picks a free port */
  apiPort: number
  apiHost?: string
  /** the local SMTP sink, whose mails /outbox lists */
  outbox?: Pick<SmtpSink, 'list' | 'get'>
  workers?: Omit<StartWorkersOptions, 'onJobHandled'>
  processesDir?: string
  /** false: the processes are deployed already (`raccord start --no-deploy`); default true */
  deploy?: boolean
  /** where webhook secrets are read; default process.env */
  env?: NodeJS.ProcessEnv
  /** signs the acknowledgement links of cuts; absent, a secret is made for this run */
  linkSecret?: string
}

export interface Application {
  /** bound port of the API */
  apiPort: number
  /** what the workers use: tests drive a handler with them directly */
  services: WorkerServices
  metrics: Metrics
  /** names of the deployed files */
  deployed: string[]
  close(): Promise<void>
}

/** One file of a deployment, as the SDK takes it. */
type Resource = { processFilename: string } | { decisionFilename: string } | { formFilename: string }

/** BPMN, DMN and form files under `dir`, as one SDK deployment. */
export function processResources(dir: string): Resource[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
  return files.flatMap((file): Resource[] => {
    const path = join(dir, file)
    if (file.endsWith('.bpmn')) return [{ processFilename: path }]
    if (file.endsWith('.dmn')) return [{ decisionFilename: path }]
    if (file.endsWith('.form')) return [{ formFilename: path }]
    return []
  })
}

export async function startApplication(options: ApplicationOptions): Promise<Application> {
  const { config, camunda, logger } = options
  const metrics = createMetrics()
  const zeebe = camunda.getZeebeGrpcApiClient()
  const closers: Array<() => Promise<void> | void> = []
  const close = async () => {
    // Last opened, first closed; every step runs even when one fails.
    const failures: unknown[] = []
    for (const closer of closers.reverse()) {
      try {
        await closer()
      } catch (error) {
        failures.push(error)
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'raccord did not stop cleanly')
  }

  try {
    const trace = TraceStore.open(options.dataDir)
    closers.push(() => trace.close())
    const security = securityStoreOf(trace)
    closers.push(() => closeSecurityStoreOf(trace))
    const mailer = await Mailer.open({ smtpUrl: options.smtpUrl, config, dataDir: options.dataDir, logger })
    closers.push(() => mailer.close())
    const interconnection = openInterconnectionCuts({ config, dataDir: options.dataDir, env: options.env ?? process.env, linkSecret: options.linkSecret })
    closers.push(() => interconnection.close())

    const resources = options.deploy === false ? [] : withSecurityWatchCycle(processResources(options.processesDir ?? PROCESSES_DIR), config.securityWatch.cycle)
    if (options.deploy !== false) await zeebe.deployResources(resources)
    const deployed = resources.map((resource) => Object.values(resource)[0] as string)
    await resumePendingStarts({ trace, cuts: interconnection.cuts.store, engine: sdkPendingStartEngine(camunda), logger })

    const changeEngine = sdkChangeEngine(camunda)
    const services: WorkerServices = {
      config,
      trace,
      now: () => new Date(),
      logger,
      cuts: interconnection.cuts,
      status: interconnection.status,
      processes: sdkProcessHandoff(camunda),
      validations: engineValidationRecords(changeEngine),
      mailer: {
        send: async <T extends TemplateId>(request: SendRequest<T>) => {
          const result = await mailer.send(request)
          if (!result.duplicate) metrics.mailsSent.inc({ template: request.template })
          return result
        },
      },
    }
    const workers: RunningWorkers = startWorkers(zeebe, services, {
      ...options.workers,
      onJobHandled: (type, outcome) => metrics.jobsHandled.inc({ type, outcome }),
    })
    closers.push(() => workers.close())

    const engine = sdkProcessEngine(camunda)
    const incidents = new IncidentService({ config, trace, engine })
    const app = createApiApp({
      config,
      credentials: options.credentials,
      incidents,
      vulnerabilities: new VulnerabilityService({ config, store: security, engine }),
      traceRequests: new TraceRequestService({ config, store: security, engine }),
      changes: new ChangeService({ config, engine: changeEngine }),
      engine,
      metrics,
      logger,
      outbox: options.outbox,
      cuts: new CutService(config, interconnection.cuts, sdkCutEngine(camunda, engine)),
      statusPage: statusRouter(config, interconnection.status, interconnection.publicUrl),
      console: consoleRouter({
        config,
        credentials: options.credentials,
        engine: new ConsoleEngine(camunda),
        incidents,
        outboxUrl: options.outbox ? '/outbox' : undefined,
        statusUrl: '/status',
      }),
    })
    const server = await listen(http.createServer(app), options.apiPort, options.apiHost ?? '127.0.0.1')
    closers.push(() => closeServer(server))
    interconnection.listening(`http://${options.apiHost ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`)

    return { apiPort: (server.address() as AddressInfo).port, services, metrics, deployed, close }
  } catch (error) {
    await close().catch((closeError: unknown) => logger.error({ err: closeError }, 'cleanup after a failed start failed too'))
    throw error
  }
}

function listen(server: http.Server, port: number, host: string): Promise<http.Server> {
  return new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(port, host, () => {
      server.off('error', rejectListen)
      resolveListen(server)
    })
  })
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolveClose, rejectClose) => {
    server.close((error) => (error ? rejectClose(error) : resolveClose()))
    server.closeAllConnections()
  })
}
