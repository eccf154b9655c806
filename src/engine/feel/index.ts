import { randomUUID } from 'node:crypto'
import {
  evaluate,
  unaryTest,
  parseExpression,
  parseUnaryTests,
  dateAndTime,
  parseDate,
  SyntaxError as FeelinSyntaxError,
  FeelDate,
  FeelTime,
  FeelDateTime,
  FeelDuration,
  FeelFunction,
  FeelRange,
} from 'feelin'
import type { Clock } from '../clock'
import type { JsonValue } from '../state/records'

/** The type of a FEEL value, named as in Zeebe's expression error messages. */
export type FeelType =
  | 'NULL'
  | 'BOOLEAN'
  | 'NUMBER'
  | 'STRING'
  | 'ARRAY'
  | 'CONTEXT'
  | 'DATE'
  | 'TIME'
  | 'DATE_TIME'
  | 'DURATION'
  | 'PERIOD'
  | 'FUNCTION'
  | 'RANGE'
  | 'UNKNOWN'

/** A FEEL expression could not be parsed or evaluated; the message says what failed. */
export class FeelEvaluationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FeelEvaluationError'
  }
}

/** Raised by the `assert` built-in: FEEL-Scala turns it into an evaluation failure. */
class AssertionFailure extends Error {}

type Builtin = ((...args: never[]) => unknown) & { $args?: string[] }

function builtin<F extends (...args: never[]) => unknown>(params: string[], fn: F): F & { $args: string[] } {
  return Object.assign(fn, { $args: params })
}

function isBlankValue(value: unknown): boolean {
  return value === null || value === undefined
}

/**
 * FEEL-Scala 1.19 built-ins that feelin 8.2 lacks. They are passed in the evaluation context, so
 * feelin's parser also learns their multi-word names (`get or else` would not parse otherwise).
 */
const EXTRA_BUILTINS: Record<string, Builtin> = {
  // FEEL-Scala: false for null and for a variable that does not exist (feelin knows no `is defined`).
  'is defined': builtin(['value'], (value: unknown) => !isBlankValue(value)),
  'is empty': builtin(['list'], (list: unknown) => (Array.isArray(list) ? list.length === 0 : null)),
  'is blank': builtin(['string'], (s: unknown) => (typeof s === 'string' ? s.trim().length === 0 : null)),
  trim: builtin(['string'], (s: unknown) => (typeof s === 'string' ? s.trim() : null)),
  uuid: builtin([], () => randomUUID()),
  partition: builtin(['list', 'size'], (list: unknown, size: unknown) => {
    if (!Array.isArray(list) || typeof size !== 'number' || !Number.isInteger(size) || size <= 0) return null
    const parts: unknown[][] = []
    for (let i = 0; i < list.length; i += size) parts.push(list.slice(i, i + size))
    return parts
  }),
  'get or else': builtin(['value', 'default'], (value: unknown, fallback: unknown) =>
    isBlankValue(value) ? fallback : value),
  'duplicate values': builtin(['list'], (list: unknown) => {
    if (!Array.isArray(list)) return null
    const seen = new Set<string>()
    const duplicates = new Map<string, unknown>()
    for (const item of list) {
      const key = JSON.stringify(item)
      if (seen.has(key)) duplicates.set(key, item)
      seen.add(key)
    }
    return [...duplicates.values()]
  }),
  assert: builtin(['value', 'condition', 'cause'], (value: unknown, condition: unknown, cause: unknown) => {
    if (condition !== true) {
      throw new AssertionFailure(typeof cause === 'string' ? cause : `Assertion failure on evaluate the expression`)
    }
    return value
  }),
}

/** A function value for a FEEL context: called with positional arguments, its parameters named for named calls. */
export function feelFunction<F extends (...args: never[]) => unknown>(parameters: string[], fn: F): F & { $args: string[] } {
  return builtin(parameters, fn)
}

/** Names known to the parser when checking syntax without variables. */
const PARSE_CONTEXT: Record<string, unknown> = { ...EXTRA_BUILTINS }

const clockBuiltinsByClock = new WeakMap<Clock, Record<string, Builtin>>()

/** now()/today() bound to the engine clock, in UTC (the engine's "JVM default zone"). */
function clockBuiltins(clock: Clock): Record<string, Builtin> {
  let bound = clockBuiltinsByClock.get(clock)
  if (bound === undefined) {
    bound = bindClock(clock)
    clockBuiltinsByClock.set(clock, bound)
  }
  return bound
}

function bindClock(clock: Clock): Record<string, Builtin> {
  return {
    now: builtin([], () => dateAndTime(new Date(clock.now()).toISOString())),
    today: builtin([], () => parseDate(new Date(clock.now()).toISOString().slice(0, 10))),
  }
}

const SYNTAX_CACHE_LIMIT = 10_000
const expressionSyntaxCache = new Map<string, string | undefined>()
const unaryTestSyntaxCache = new Map<string, string | undefined>()

interface ParseTree {
  iterate(spec: { enter(node: { type: { isError: boolean }; from: number; to: number }): boolean | void }): void
}

function findSyntaxError(expression: string, tree: ParseTree): string | undefined {
  let problem: string | undefined
  tree.iterate({
    enter(node) {
      if (problem !== undefined) return false
      if (node.type.isError) {
        problem = node.from === node.to
          ? `incomplete expression at position ${node.from}`
          : `unexpected '${expression.slice(node.from, node.to)}' at position ${node.from}`
        return false
      }
      return undefined
    },
  })
  return problem
}

/**
 * The deepest bracket nesting ((), [], {}) an expression may have. Real expressions nest a few
 * levels; the parser's time grows faster than the text beyond a few hundred (measured: 400 nested
 * lists 3 ms, 1,000 over 1 s, 10,000 about 30 s), and a deployment must not hold the engine that long.
 */
export const MAX_FEEL_NESTING = 100

/** Whether brackets outside string literals and `quoted names` nest deeper than MAX_FEEL_NESTING. */
function nestedTooDeep(expression: string): boolean {
  let depth = 0
  let quote: string | undefined
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i]
    if (quote !== undefined) {
      if (char === '\\') i++
      else if (char === quote) quote = undefined
    } else if (char === '"' || char === '`') {
      quote = char
    } else if (char === '(' || char === '[' || char === '{') {
      if (++depth > MAX_FEEL_NESTING) return true
    } else if (char === ')' || char === ']' || char === '}') {
      depth--
    }
  }
  return false
}

const TOO_DEEP = `brackets nested more than ${MAX_FEEL_NESTING} levels deep`

function memoised(cache: Map<string, string | undefined>, expression: string, check: () => string | undefined): string | undefined {
  if (cache.has(expression)) return cache.get(expression)
  const problem = check()
  if (cache.size >= SYNTAX_CACHE_LIMIT) cache.clear()
  cache.set(expression, problem)
  return problem
}

/** Longest expression quoted whole in a problem: past it, the reason would be lost in the quote. */
const QUOTE_LIMIT = 200

function quoted(expression: string): string {
  return expression.length <= QUOTE_LIMIT ? expression : `${expression.slice(0, QUOTE_LIMIT)}… (${expression.length} characters)`
}

/**
 * Syntax check of a FEEL expression (text without the leading '='). Returns a message naming the
 * problem and its position, or undefined when the expression is valid.
 */
export function feelSyntaxError(expression: string, functionNames: string[] = []): string | undefined {
  // Names of functions the context will hold (a DRG's business knowledge models), multi-word ones too.
  const multiWord = functionNames.filter((name) => /\s/.test(name))
  const context = multiWord.length === 0 ? PARSE_CONTEXT : { ...PARSE_CONTEXT, ...Object.fromEntries(multiWord.map((name) => [name, builtin([], () => null)])) }
  return memoised(expressionSyntaxCache, multiWord.length === 0 ? expression : `${multiWord.join('\u0000')}\u0000${expression}`, () => {
    if (expression.trim() === '') return `failed to parse expression '${expression}': the expression is empty`
    if (nestedTooDeep(expression)) return `failed to parse expression '${quoted(expression)}': ${TOO_DEEP}`
    const problem = findSyntaxError(escapeLineBreaksInStrings(expression), parseExpression(escapeLineBreaksInStrings(expression), context, undefined) as ParseTree)
    return problem === undefined ? undefined : `failed to parse expression '${quoted(expression)}': ${problem}`
  })
}

/** Syntax check of unary tests (a DMN input entry); same contract as feelSyntaxError. */
export function unaryTestSyntaxError(expression: string): string | undefined {
  return memoised(unaryTestSyntaxCache, expression, () => {
    if (expression.trim() === '') return `failed to parse unary tests '${expression}': the input entry is empty`
    if (nestedTooDeep(expression)) return `failed to parse unary tests '${expression}': ${TOO_DEEP}`
    const problem = findSyntaxError(expression, parseUnaryTests(expression, PARSE_CONTEXT, undefined) as ParseTree)
    return problem === undefined ? undefined : `failed to parse unary tests '${expression}': ${problem}`
  })
}

/**
 * Single-word names of FEEL built-in functions. FEEL-Scala reads such a name as a variable unless it
 * is called: `count > 5` with no variable `count` is null > 5, not the function compared to 5.
 */
const BUILTIN_WORDS = new Set(['count', 'sum', 'min', 'max', 'mean', 'median', 'stddev', 'mode', 'all', 'any', 'product',
  'abs', 'floor', 'ceiling', 'round', 'sqrt', 'log', 'exp', 'odd', 'even', 'modulo', 'decimal', 'string', 'number',
  'date', 'time', 'duration', 'contains', 'matches', 'replace', 'split', 'substring', 'reverse', 'append', 'concatenate',
  'distinct', 'flatten', 'sort', 'union', 'remove', 'context', 'before', 'after', 'meets', 'overlaps', 'finishes',
  'includes', 'during', 'starts', 'coincides', 'trim', 'uuid', 'partition', 'assert'])

/**
 * The built-in names an expression reads as variables: outside strings, not after a dot (a context
 * key), not called anywhere in it, and followed by neither a call nor another word.
 */
function builtinNamesReadAsVariables(expression: string): string[] {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, (literal) => ' '.repeat(literal.length))
  const names = new Set<string>()
  for (const match of code.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    const name = match[0]
    if (!BUILTIN_WORDS.has(name)) continue
    const before = code.slice(0, match.index).trimEnd()
    const after = code.slice((match.index ?? 0) + name.length).trimStart()
    if (before.endsWith('.') || /^[A-Za-z(]/.test(after)) continue
    names.add(name)
  }
  for (const name of [...names]) if (new RegExp(`(^|[^A-Za-z0-9_.])${name}\\s*\\(`).test(code)) names.delete(name)
  return [...names]
}

/** A string literal may hold a real line break in FEEL-Scala; feelin wants it escaped. */
function escapeLineBreaksInStrings(expression: string): string {
  if (!expression.includes('\n') && !expression.includes('\r')) return expression
  return expression.replace(/"(?:[^"\\]|\\.)*"/gs, (literal) => literal.replace(/\r/g, '\\r').replace(/\n/g, '\\n'))
}

function evaluationContext(variables: Record<string, unknown>, clock: Clock, expression = ''): Record<string, unknown> {
  // A built-in name read as a variable that does not exist is null, as in FEEL-Scala.
  const shadowed = Object.fromEntries(builtinNamesReadAsVariables(expression).filter((name) => !Object.prototype.hasOwnProperty.call(variables, name)).map((name) => [name, null]))
  // Variables win over the added built-ins, as a variable named `today` must stay readable.
  return { ...EXTRA_BUILTINS, ...clockBuiltins(clock), ...shadowed, ...variables }
}

interface FeelinWarning { type: string; message: string }

/** Warnings worded as FEEL-Scala words them, since Zeebe appends them to incident messages. */
function describeWarning(warning: FeelinWarning): string {
  if (warning.type === 'NO_VARIABLE_FOUND') {
    const name = /^Variable '(.*)' not found$/.exec(warning.message)?.[1]
    if (name !== undefined) return `[NO_VARIABLE_FOUND] No variable found with name '${name}'`
  }
  if (warning.type === 'NO_CONTEXT_ENTRY_FOUND') {
    const key = /^Key '(.*)' not found in/.exec(warning.message)?.[1]
    if (key !== undefined) return `[NO_CONTEXT_ENTRY_FOUND] No context entry found with key '${key}'`
  }
  return `[${warning.type}] ${warning.message}`
}

function failure(kind: string, expression: string, error: unknown): FeelEvaluationError {
  if (error instanceof FeelinSyntaxError) {
    return new FeelEvaluationError(`failed to parse ${kind} '${expression}': ${error.message} at position ${error.position.from}`)
  }
  if (error instanceof AssertionFailure) {
    return new FeelEvaluationError(`failed to evaluate ${kind} '${expression}': ${error.message}`)
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new FeelEvaluationError(`failed to evaluate ${kind} '${expression}': ${reason}`)
}

/**
 * Evaluate FEEL (text without '=') with the variables as context. now()/today() read the clock.
 * A missing variable is null with a warning, as in FEEL-Scala 1.17+. Throws FeelEvaluationError
 * on a syntax error or an evaluation failure.
 */
export function evaluateFeel(
  expression: string,
  variables: Record<string, unknown>,
  clock: Clock,
): { value: unknown; warnings: string[] } {
  if (expression.trim() === '') throw new FeelEvaluationError(`failed to parse expression '${expression}': the expression is empty`)
  const simple = evaluateSimplePath(expression, variables)
  if (simple) return simple
  let result: { value: unknown; warnings: FeelinWarning[] }
  const source = escapeLineBreaksInStrings(expression)
  const context = evaluationContext(variables, clock, source)
  try {
    result = evaluate(source, context)
  } catch (error) {
    throw failure('expression', expression, error)
  }
  const missing = builtinNamesReadAsVariables(source).filter((name) => context[name] === null && !Object.prototype.hasOwnProperty.call(variables, name))
  return { value: result.value ?? null, warnings: [...missing.map((name) => `[NO_VARIABLE_FOUND] No variable found with name '${name}'`), ...result.warnings.map(describeWarning)] }
}

const SIMPLE_PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/
const NOT_A_NAME = new Set(['true', 'false', 'null', 'not', 'if', 'then', 'else', 'for', 'some', 'every', 'function',
  'in', 'return', 'satisfies', 'and', 'or', 'between', 'instance', 'of', 'now', 'today'])

/**
 * The most common expressions are a variable or a path into plain JSON objects (`=orderId`,
 * `=order.customer.id`): look them up directly. feelin parses its input on every call, which
 * dominated the engine's profile. Anything else (lists, temporal values, keywords) goes to feelin.
 */
function evaluateSimplePath(expression: string, variables: Record<string, unknown>): { value: unknown; warnings: string[] } | undefined {
  const match = SIMPLE_PATH.exec(expression)
  if (!match) return undefined
  const parts = match[1].split('.')
  if (parts.some((p) => NOT_A_NAME.has(p))) return undefined
  if (!Object.prototype.hasOwnProperty.call(variables, parts[0])) {
    return { value: null, warnings: [`[NO_VARIABLE_FOUND] No variable found with name '${parts[0]}'`] }
  }
  let value: unknown = variables[parts[0]]
  for (let i = 1; i < parts.length; i++) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined
    const record = value as Record<string, unknown>
    if (!Object.prototype.hasOwnProperty.call(record, parts[i])) {
      return { value: null, warnings: [`[NO_CONTEXT_ENTRY_FOUND] No context entry found with key '${parts[i]}'`] }
    }
    value = record[parts[i]]
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return undefined
  return { value: value === undefined ? null : value, warnings: [] }
}

/**
 * Evaluate a unary test (DMN input entry) against inputValue; the variables are visible too.
 * Returns true, false, or null as feelin does.
 */
export function evaluateUnaryTest(
  expression: string,
  inputValue: unknown,
  variables: Record<string, unknown>,
  clock: Clock,
): boolean | null {
  if (expression.trim() === '') throw new FeelEvaluationError(`failed to parse unary tests '${expression}': the input entry is empty`)
  try {
    return unaryTest(expression, { ...evaluationContext(variables, clock), '?': inputValue ?? null }).value
  } catch (error) {
    throw failure('unary tests', expression, error)
  }
}

/** The FEEL type of a value, as Zeebe names it in error messages. */
export function feelTypeOf(value: unknown): FeelType {
  if (value === null || value === undefined) return 'NULL'
  switch (typeof value) {
    case 'boolean': return 'BOOLEAN'
    case 'number': return 'NUMBER'
    case 'string': return 'STRING'
    case 'function': return 'FUNCTION'
    case 'object': break
    default: return 'UNKNOWN'
  }
  if (Array.isArray(value)) return 'ARRAY'
  if (value instanceof FeelDateTime) return 'DATE_TIME'
  if (value instanceof FeelDate) return 'DATE'
  if (value instanceof FeelTime) return 'TIME'
  if (value instanceof FeelDuration) return value.yearsMonths ? 'PERIOD' : 'DURATION'
  if (value instanceof FeelFunction) return 'FUNCTION'
  if (value instanceof FeelRange) return 'RANGE'
  const prototype = Object.getPrototypeOf(value) as unknown
  if (prototype === Object.prototype || prototype === null) return 'CONTEXT'
  return 'UNKNOWN'
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** "+01:00" from an offset in seconds, "Z" for zero, as java.time prints offsets. */
function formatOffset(offsetSeconds: number): string {
  if (offsetSeconds === 0) return 'Z'
  const sign = offsetSeconds < 0 ? '-' : '+'
  const abs = Math.abs(offsetSeconds)
  const seconds = abs % 60
  return `${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}${seconds ? `:${pad(seconds)}` : ''}`
}

function offsetSeconds(value: FeelDateTime | FeelTime): number {
  const offset = value['time offset']
  const d = offset.unwrap()
  return Math.round(d.total({ unit: 'seconds' }))
}

/** Fraction digits as DateTimeFormatter.ISO_LOCAL_TIME prints them: only the digits needed. */
function isoFraction(ms: number, us: number, ns: number): string {
  const nanos = ms * 1_000_000 + us * 1000 + ns
  if (nanos === 0) return ''
  return '.' + String(nanos).padStart(9, '0').replace(/0+$/, '')
}

interface WallClock {
  hour: number; minute: number; second: number; millisecond: number; microsecond: number; nanosecond: number
}

function isoLocalTime(t: WallClock): string {
  return `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${isoFraction(t.millisecond, t.microsecond, t.nanosecond)}`
}

/** Zone suffix as ISO_ZONED_DATE_TIME prints it: an offset, plus "[Region/City]" for a region. */
function zoneSuffix(value: FeelDateTime | FeelTime): string {
  const zone = value.zone
  if (zone === null) return ''
  const offset = formatOffset(offsetSeconds(value))
  if (zone === 'UTC' || /^[+-]\d/.test(zone) || zone === 'Z') return offset
  return `${offset}[${zone}]`
}

/**
 * A FEEL value as Zeebe stores it in a variable: temporals become ISO strings, contexts objects,
 * lists arrays; functions, ranges and anything else become null.
 */
export function feelToJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'object':
      break
    default:
      return null
  }
  if (Array.isArray(value)) return value.map(feelToJson)
  if (value instanceof FeelDateTime) {
    const dt = value.unwrap()
    return `${dt.toPlainDate().toString()}T${isoLocalTime(dt)}${zoneSuffix(value)}`
  }
  if (value instanceof FeelDate) return value.unwrap().toString()
  if (value instanceof FeelTime) {
    // FEEL-Scala prints a time in a region as "10:00:00@Europe/Paris", as it parses it.
    const zone = value.zone
    const regional = zone !== null && zone !== 'UTC' && zone !== 'Z' && !/^[+-]\d/.test(zone)
    return `${isoLocalTime(value.unwrap())}${regional ? `@${zone}` : zoneSuffix(value)}`
  }
  if (value instanceof FeelDuration) return value.iso
  if (feelTypeOf(value) !== 'CONTEXT') return null
  const object: Record<string, JsonValue> = {}
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) object[key] = feelToJson(entry)
  return object
}
