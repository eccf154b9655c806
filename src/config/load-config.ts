/**
 * Reads and validates the configuration once, at start-up. Any problem stops start-up with the
 * YAML path of the bad key and the reason, all problems at once.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { z } from 'zod'
import { configSchema, type Config } from './schema'

/** Where the configuration is read from when neither an argument nor RACCORD_CONFIG names a file. */
export const DEFAULT_CONFIG_FILE = 'raccord.config.yaml'

/** One thing wrong with the configuration file. */
export interface ConfigProblem {
  /** Path of the key, e.g. `organisations[1].contacts.technicalLead.email`; empty for the whole file. */
  path: string
  message: string
  /** 1-based position in the file, when it is known. */
  line?: number
  column?: number
}

/** The configuration cannot be used; `message` lists every problem, one a line. */
export class ConfigError extends Error {
  readonly file: string
  readonly problems: ConfigProblem[]

  constructor(file: string, problems: ConfigProblem[], headline = 'Invalid configuration') {
    super(`${headline} in ${file}:\n${problems.map((p) => `  - ${describe(p)}`).join('\n')}`)
    this.name = 'ConfigError'
    this.file = file
    this.problems = problems
  }
}

function describe(problem: ConfigProblem): string {
  const at = problem.line === undefined ? '' : ` (line ${problem.line}, column ${problem.column})`
  return problem.path === '' ? `${problem.message}${at}` : `${problem.path}: ${problem.message}${at}`
}

/**
 * Loads the configuration from `path`, else from `$RACCORD_CONFIG`, else from raccord.config.yaml
 * in the working directory. Environment variables named by the file (tokens, secrets) must be set
 * in `env`. Throws ConfigError.
 */
export function loadConfig(path?: string, env: NodeJS.ProcessEnv = process.env): Config {
  const file = resolve(path ?? env.RACCORD_CONFIG ?? DEFAULT_CONFIG_FILE)
  const source = readSource(file)

  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0])
        return { path: '', message: error.message, line: position.line, column: position.col }
      }),
      'Malformed YAML',
    )
  }

  const raw: unknown = doc.toJS()
  const result = configSchema.safeParse(raw, { error: requiredMessage })
  const problems: z.core.$ZodIssue[] = result.success ? [] : result.error.issues
  const located = problems.map((issue) => locate(doc, lineCounter, issue.path, issue.message))
  located.push(...missingEnvVars(raw, env).map((p) => locate(doc, lineCounter, p.path, p.message)))
  if (!result.success || located.length > 0) throw new ConfigError(file, located)
  return result.data
}

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT'
        ? `Configuration file not found: ${file}. Copy raccord.config.example.yaml to ${DEFAULT_CONFIG_FILE}, or set RACCORD_CONFIG to the path of your file.`
        : `Cannot read configuration file ${file}: ${(error as Error).message}`
    throw new ConfigError(file, [{ path: '', message: reason }], 'Cannot load configuration')
  }
}

/** zod says "expected string, received undefined"; a person editing YAML understands "Required". */
function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')
  return missing ? 'Required' : undefined
}

/** Secrets are named in the file and read from the environment: each name must be set. */
function missingEnvVars(raw: unknown, env: NodeJS.ProcessEnv): Array<{ path: PropertyKey[]; message: string }> {
  const references: Array<{ path: PropertyKey[]; name: unknown }> = []
  const config = raw as { organisations?: unknown; api?: { tokens?: unknown } } | null
  each(config?.organisations, (org, i) => {
    each((org as { interconnections?: unknown } | null)?.interconnections, (link, j) => {
      const control = (link as { linkControl?: { type?: unknown; secretEnv?: unknown } } | null)?.linkControl
      if (control?.type === 'webhook') {
        references.push({ path: ['organisations', i, 'interconnections', j, 'linkControl', 'secretEnv'], name: control.secretEnv })
      }
    })
  })
  const adapters = (config as { changes?: { adapters?: Record<string, { type?: unknown; secretEnv?: unknown } | null> } } | null)?.changes?.adapters
  for (const [name, adapter] of Object.entries(adapters ?? {})) {
    if (adapter?.type === 'webhook') references.push({ path: ['changes', 'adapters', name, 'secretEnv'], name: adapter.secretEnv })
  }
  each(config?.api?.tokens, (token, i) => {
    references.push({ path: ['api', 'tokens', i, 'tokenEnv'], name: (token as { tokenEnv?: unknown } | null)?.tokenEnv })
  })
  return references
    .filter((ref): ref is { path: PropertyKey[]; name: string } => typeof ref.name === 'string' && ref.name !== '')
    .filter((ref) => (env[ref.name] ?? '') === '')
    .map((ref) => ({ path: ref.path, message: `Environment variable ${ref.name} is not set` }))
}

function each(value: unknown, visit: (item: unknown, index: number) => void): void {
  if (Array.isArray(value)) value.forEach(visit)
}

/** Attaches the line of the key, or of its nearest existing parent when the key is missing. */
function locate(doc: Document, lineCounter: LineCounter, path: PropertyKey[], message: string): ConfigProblem {
  const problem: ConfigProblem = { path: formatPath(path), message }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = nodeAt(doc, path.slice(0, depth))
    if (node?.range) {
      const position = lineCounter.linePos(node.range[0])
      return { ...problem, line: position.line, column: position.col }
    }
  }
  return problem
}

function nodeAt(doc: Document, path: PropertyKey[]): Node | undefined {
  let node: unknown = doc.contents
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key)
      // `email:` with nothing after it has no value node: point at the key instead.
      node = pair !== undefined && pair.value === null ? pair.key : pair?.value
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key]
    } else {
      return undefined
    }
  }
  return (node ?? undefined) as Node | undefined
}

/** `['organisations', 1, 'contacts', 'email']` -> `organisations[1].contacts.email` */
export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`
    return out === '' ? String(key) : `${out}.${String(key)}`
  }, '')
}
