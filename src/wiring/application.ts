/**
 * raccord on top of a running engine and SMTP server: the trace, the mailer, the processes
 * deployed, the job workers and the HTTP API. `raccord start` and the API tests both use this.
 */
import http from 'node:http'
import type { Camunda8 } from '@camunda8/sdk'
import type { Logger } from 'pino'
import { createApiApp } from '../api/app'
import type { Credential } from '../api/auth'
import { ConsoleEngine } from '../engine-client/console-engine'
import { engineProblem } from '../console/engine-problem'
import { consoleRouter } from '../console/router'
import type { Config } from '../config'
import { Mailer, type SendRequest, type SmtpSink, type TemplateId } from '../notify'
import { startWorkers, type JobServices, type RunningWorkers, type StartWorkersOptions } from '../../workers'
import { ChangeService } from '../app/changes/changes'
import { sdkChangeEngine } from '../engine-client/change-engine'
import { engineValidationRecords } from '../app/changes/release-validation'
import { statusRouter } from '../status/status-page'
import { CutService } from '../app/cuts/cuts'
import { sdkCutEngine } from '../engine-client/cut-engine'
import { openInterconnectionCuts } from './cut-wiring'
import { IncidentService } from '../app/incidents/incidents'
import { createMetrics, type Metrics } from '../app/metrics'
import { sdkProcessEngine } from '../engine-client/process-engine'
import { listRoutes } from '../api/route-list'
import { sdkUserTaskLookup } from '../engine-client/user-task-lookup'
import { sdkProcessHandoff } from '../engine-client/process-handoff'
import { SecurityStore } from '../app/security/security-store'
import { withSecurityWatchCycle } from '../app/security/security-watch'
import { TraceStore } from '../app/incidents/trace-store'
import { TraceRequestService } from '../app/traces/trace-requests'
import { VulnerabilityService } from '../app/security/vulnerabilities'
import { processResources, PROCESSES_DIR } from './deploy'
import { closeServer, listen } from './http-server'
import { resumePendingStarts } from '../app/pending-starts'
import { sdkPendingStartEngine } from '../engine-client/pending-start-engine'
import { openDecisionLinks } from './decision-links-wiring'

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
  services: JobServices
  metrics: Metrics
  /** names of the deployed files */
  deployed: string[]
  /** every route the API answers, as `METHOD /path` (src/api/route-list.ts) */
  routes: string[]
  close(): Promise<void>
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
    const security = SecurityStore.open(options.dataDir)
    closers.push(() => security.close())
    const mailer = await Mailer.open({ smtpUrl: options.smtpUrl, config, dataDir: options.dataDir, logger })
    closers.push(() => mailer.close())
    const interconnection = openInterconnectionCuts({ config, dataDir: options.dataDir, env: options.env ?? process.env, linkSecret: options.linkSecret })
    closers.push(() => interconnection.close())

    const resources = options.deploy === false ? [] : withSecurityWatchCycle(processResources(options.processesDir ?? PROCESSES_DIR), config.securityWatch.cycle)
    if (options.deploy !== false) await zeebe.deployResources(resources)
    const deployed = resources.map((resource) => Object.values(resource)[0] as string)
    await resumePendingStarts({ trace, cuts: interconnection.cuts.store, engine: sdkPendingStartEngine(camunda), logger })

    const changeEngine = sdkChangeEngine(camunda)
    const services: JobServices = {
      config,
      trace,
      security,
      now: () => new Date(),
      logger,
      cuts: interconnection.cuts,
      status: interconnection.status,
      processes: sdkProcessHandoff(camunda),
      validations: engineValidationRecords(changeEngine),
      userTasks: sdkUserTaskLookup(camunda),
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
    const cuts = new CutService(config, interconnection.cuts, sdkCutEngine(camunda, engine))
    const decisions = openDecisionLinks({ config, camunda, dataDir: options.dataDir, mailer: services.mailer, publicUrl: interconnection.publicUrl, logger, cuts })
    closers.push(() => decisions.close())
    const app = createApiApp({
      config,
      credentials: options.credentials,
      incidents,
      vulnerabilities: new VulnerabilityService({ config, store: security, engine }),
      traceRequests: new TraceRequestService({ config, store: security, engine }),
      changes: new ChangeService({ config, engine: changeEngine, cuts: interconnection.cuts.store }),
      engine,
      metrics,
      logger,
      outbox: options.outbox,
      cuts,
      decisionLinks: decisions.links,
      statusPage: statusRouter(config, interconnection.status, interconnection.publicUrl),
      console: consoleRouter({
        config,
        credentials: options.credentials,
        engine: new ConsoleEngine(camunda, engineProblem),
        incidents,
        cuts,
        outboxUrl: options.outbox ? '/outbox' : undefined,
        statusUrl: '/status',
      }),
    })
    const { server, port } = await listen(http.createServer(app), options.apiPort, options.apiHost ?? '127.0.0.1')
    closers.push(() => closeServer(server))
    interconnection.listening(`http://${options.apiHost ?? '127.0.0.1'}:${port}`)
    decisions.start()

    return { apiPort: port, services, metrics, deployed, routes: listRoutes(app), close }
  } catch (error) {
    await close().catch((closeError: unknown) => logger.error({ err: closeError }, 'cleanup after a failed start failed too'))
    throw error
  }
}
