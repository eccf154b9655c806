/**
 * `raccord start`: everything a newcomer needs from one command. The configuration, the embedded
 * engine (unless ZEEBE_GRPC_ADDRESS or ZEEBE_REST_ADDRESS names a cluster), a local SMTP sink
 * (unless SMTP_URL names a server), the processes deployed, the workers and the API.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Camunda8 } from '@camunda8/sdk'
import pino from 'pino'
import { parse } from 'yaml'
import { credentialsFrom } from '../api/auth'
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config'
import { startEngineServer, type EngineServer } from '../engine'
import { smtpSinkPort, startSmtpSink, type SmtpSink } from '../notify'
import { startApplication, type Application } from './application'
import { clusterTarget, namesCluster } from './deploy'
import { persistentSecret, SECRETS_DIR } from '../app/access/persistent-secret'

export interface StartOptions {
  /** default: $RACCORD_CONFIG, else raccord.config.yaml */
  configFile?: string
  /** engine state, trace, sent-mail record, outbox */
  dataDir: string
  /** ports of the embedded engine */
  grpcPort: number
  restPort: number
  env?: NodeJS.ProcessEnv
  /** false: leave the deployment alone (`--no-deploy`: processes/ is deployed already); default true */
  deploy?: boolean
  /** where the "what is where" lines go */
  print?: (line: string) => void
}

export interface Raccord {
  apiUrl: string
  close(): Promise<void>
}

/** A token named by the configuration but absent from the environment, made up for this run. */
export interface GeneratedToken {
  envVar: string
  token: string
}

/**
 * Fills in every `api.tokens[].tokenEnv` the environment lacks with a token, so that `npm start`
 * works out of the box. With a data dir, each token is made once and kept there (0600), so a
 * restart keeps them; without, they live in memory for this run.
 */
export function generateMissingTokens(configFile: string, env: NodeJS.ProcessEnv, dataDir?: string): { env: NodeJS.ProcessEnv; generated: GeneratedToken[] } {
  let raw: unknown
  try {
    raw = parse(readFileSync(configFile, 'utf8'))
  } catch {
    // loadConfig reports an unreadable or malformed file with its position.
    return { env, generated: [] }
  }
  const tokens = (raw as { api?: { tokens?: unknown } } | null)?.api?.tokens
  const names = Array.isArray(tokens) ? tokens.map((token) => (token as { tokenEnv?: unknown } | null)?.tokenEnv) : []
  const generated = [...new Set(names)]
    .filter((name): name is string => typeof name === 'string' && /^[A-Z_][A-Z0-9_]*$/.test(name) && (env[name] ?? '') === '')
    .map((envVar) => ({ envVar, token: dataDir === undefined ? randomBytes(24).toString('base64url') : persistentSecret(dataDir, `token-${envVar}`, 24) }))
  return { env: { ...env, ...Object.fromEntries(generated.map(({ envVar, token }) => [envVar, token])) }, generated }
}

/** Where a token raccord made is kept: its file, never its value, goes to the output (which often ends in a log). */
function tokenFile(dataDir: string, envVar: string): string {
  return join(dataDir, SECRETS_DIR, `token-${envVar}`)
}

/** Starts raccord. Throws ConfigError on a bad configuration, before anything is started. */
export async function startRaccord(options: StartOptions): Promise<Raccord> {
  const print = options.print ?? ((line: string) => console.log(line))
  const baseEnv = options.env ?? process.env
  const configFile = resolve(options.configFile ?? baseEnv.RACCORD_CONFIG ?? DEFAULT_CONFIG_FILE)
  const dataDir = resolve(options.dataDir)
  const { env, generated } = generateMissingTokens(configFile, baseEnv, dataDir)
  const config = loadConfig(configFile, env)
  const logger = pino({ name: 'raccord', level: env.LOG_LEVEL ?? 'info' })

  const stops: Array<() => Promise<void>> = []
  const close = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop()
      } catch (error) {
        logger.error({ err: error }, 'error while stopping')
      }
    }
  }

  try {
    const useCluster = namesCluster(env)
    let engine: EngineServer | undefined
    let camunda: Camunda8
    if (useCluster) {
      // The SDK reads ZEEBE_GRPC_ADDRESS, ZEEBE_REST_ADDRESS, CAMUNDA_AUTH_STRATEGY... itself.
      camunda = new Camunda8()
    } else {
      const server = await startEngineServer({ grpcPort: options.grpcPort, restPort: options.restPort, dataDir })
      engine = server
      stops.push(() => server.close())
      camunda = new Camunda8({
        ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${server.grpcPort}`,
        ZEEBE_REST_ADDRESS: `http://127.0.0.1:${server.restPort}`,
        CAMUNDA_AUTH_STRATEGY: 'NONE',
        CAMUNDA_LOG_LEVEL: 'error',
        zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'ERROR' },
      })
    }
    stops.push(() => camunda.closeAllClients())

    let sink: SmtpSink | undefined
    if (env.SMTP_URL === undefined || env.SMTP_URL === '') {
      sink = await startSmtpSink({ port: smtpSinkPort(env), dir: join(dataDir, 'outbox'), onError: (error) => logger.warn({ err: error }, 'local SMTP sink: a client session failed') })
      const started = sink
      stops.push(() => started.close())
    }
    const smtpUrl = sink?.url ?? (env.SMTP_URL as string)

    const app: Application = await startApplication({
      config,
      credentials: credentialsFrom(config, env),
      camunda,
      smtpUrl,
      dataDir,
      logger,
      apiPort: config.api.port,
      apiHost: env.RACCORD_API_HOST ?? '127.0.0.1',
      outbox: sink,
      deploy: options.deploy,
      env,
      linkSecret: env[config.interconnectionCuts.linkSecretEnv] || undefined,
    })
    stops.push(() => app.close())

    const apiUrl = `http://${env.RACCORD_API_HOST ?? '127.0.0.1'}:${app.apiPort}`
    // The banner is written at once: a reader that waits for its API line also gets its token lines.
    const banner: string[] = []
    const say = (line: string): void => { banner.push(line) }
    say('')
    say(`raccord is running for '${config.self}' (configuration ${configFile})`)
    say(`  data          ${dataDir}`)
    if (engine) {
      say(`  engine        embedded: Zeebe gRPC grpc://127.0.0.1:${engine.grpcPort}, REST http://127.0.0.1:${engine.restPort}/v2`)
    } else {
      const cluster = clusterTarget(env)
      say(`  engine        Camunda cluster: gRPC ${cluster.grpcAddress}, REST ${cluster.restAddress}, auth ${cluster.authStrategy}`)
    }
    say(options.deploy === false
      ? '  deployed      nothing (--no-deploy): the engine runs what was deployed before'
      : `  deployed      ${app.deployed.map((file) => file.slice(file.lastIndexOf('processes'))).join(', ')}`)
    say(`  API           ${apiUrl}/api/incidents   (health ${apiUrl}/healthz, metrics ${apiUrl}/metrics)`)
    say(`  console       ${apiUrl}/console/   (sign in with one of the tokens below)`)
    say(`  cuts          ${apiUrl}/api/cuts; the other party's signed links at ${apiUrl}/links/...`)
    say(`  status page   ${apiUrl}/status   (JSON ${apiUrl}/status.json, Atom ${apiUrl}/status.atom)`)
    const linkSecretEnv = config.interconnectionCuts.linkSecretEnv
    say(env[linkSecretEnv] ? `  link secret   ${linkSecretEnv} from the environment` : `  link secret   ${linkSecretEnv} was not set; the secret kept in ${join(dataDir, SECRETS_DIR)} (0600) signs the links, across restarts`)
    say(sink ? `  mail          local SMTP sink ${sink.url}; mails kept in ${sink.dir}, listed at ${apiUrl}/outbox` : `  mail          ${redact(smtpUrl)}`)
    for (const credential of config.api.tokens) {
      const made = generated.find((token) => token.envVar === credential.tokenEnv)
      const who = `${credential.contact ?? `team ${String(credential.team)}`} of ${credential.organisation}: ${credential.roles.join(', ')}`
      say(made ? `  token         ${credential.tokenEnv} (${who}) was not set; made once and kept in ${tokenFile(dataDir, made.envVar)} (0600)` : `  token         ${credential.tokenEnv} (${who}) from the environment`)
    }
    if (generated.length > 0) {
      const example = generated[0]
      say('')
      say(`  try: curl -H "Authorization: Bearer $(cat ${tokenFile(dataDir, example.envVar)})" ${apiUrl}/api/incidents`)
    }
    say('')
    print(banner.join('\n'))
    return { apiUrl, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** An SMTP URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(SMTP_URL is not a URL)'
  }
}
