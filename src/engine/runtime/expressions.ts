import type { Clock } from '../clock'
import { evaluateFeel, feelToJson, feelTypeOf } from '../feel'
import type { Expr } from '../model/types'
import type { IncidentErrorType, JsonValue } from '../state/records'

/** A failure that stops an element and raises an incident of the given type. */
export class IncidentError extends Error {
  constructor(readonly errorType: IncidentErrorType, message: string) {
    super(message)
    this.name = 'IncidentError'
  }
}

export function isFeel(expr: Expr): boolean {
  return expr.startsWith('=')
}

/**
 * Evaluates expressions at their sites, with Zeebe's type checks (engine-semantics §3.4):
 * a wrong type, null included, is an EXTRACT_VALUE_ERROR naming the expression.
 */
export class Expressions {
  constructor(private readonly clock: Clock) {}

  /** Raw FEEL value of "=expr", or the static string itself. */
  raw(expr: Expr, vars: () => Record<string, unknown>, errorType: IncidentErrorType = 'EXTRACT_VALUE_ERROR'): unknown {
    return this.evaluated(expr, vars, errorType).value
  }

  /** The value with FEEL's warnings, which Zeebe appends to a type-mismatch message. */
  private evaluated(expr: Expr, vars: () => Record<string, unknown>, errorType: IncidentErrorType = 'EXTRACT_VALUE_ERROR'): { value: unknown; warnings: string[] } {
    if (!isFeel(expr)) return { value: expr, warnings: [] }
    try {
      return evaluateFeel(expr.slice(1), vars(), this.clock)
    } catch (e) {
      throw new IncidentError(errorType, `Expected to evaluate expression '${expr.slice(1)}', but failed: ${(e as Error).message}`)
    }
  }

  string(expr: Expr, vars: () => Record<string, unknown>): string {
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (typeof v !== 'string') throw typeMismatch(expr, 'STRING', v, warnings)
    return v
  }

  optionalString(expr: Expr | undefined, vars: () => Record<string, unknown>): string | undefined {
    if (expr === undefined || expr === '') return undefined
    return this.string(expr, vars)
  }

  number(expr: Expr, vars: () => Record<string, unknown>): number {
    if (!isFeel(expr)) {
      const n = Number(expr)
      if (!Number.isFinite(n)) throw typeMismatch(expr, 'NUMBER', expr)
      return n
    }
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (typeof v !== 'number') throw typeMismatch(expr, 'NUMBER', v, warnings)
    return v
  }

  boolean(expr: Expr, vars: () => Record<string, unknown>): boolean {
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (typeof v !== 'boolean') throw typeMismatch(expr, 'BOOLEAN', v, warnings)
    return v
  }

  array(expr: Expr, vars: () => Record<string, unknown>): JsonValue[] {
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (!Array.isArray(v)) throw typeMismatch(expr, 'ARRAY', v, warnings)
    return v.map((x) => feelToJson(x))
  }

  /** A list of strings: a static "a, b" or a FEEL list of strings (candidate users and groups). */
  stringList(expr: Expr | undefined, vars: () => Record<string, unknown>): string[] {
    if (expr === undefined || expr === '') return []
    if (!isFeel(expr)) return expr.split(',').map((s) => s.trim()).filter((s) => s !== '')
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw typeMismatch(expr, 'ARRAY', v, warnings)
    return v as string[]
  }

  /** A correlation key: a string, or a number converted to its long string. */
  correlationKey(expr: Expr, vars: () => Record<string, unknown>): string {
    const { value: v, warnings } = this.evaluated(expr, vars)
    if (typeof v === 'string') return v
    if (typeof v === 'number') return String(Math.trunc(v))
    throw new IncidentError('EXTRACT_VALUE_ERROR', withWarnings(
      `Failed to extract the correlation key for '${expr.replace(/^=/, '')}': The value must be either a string or a number, but was '${feelTypeOf(v)}'.`, warnings))
  }

  /** The JSON value of a mapping source; a missing variable gives null (engine-semantics §2.7). */
  json(expr: Expr, vars: () => Record<string, unknown>): JsonValue {
    if (!isFeel(expr)) return expr
    return feelToJson(this.raw(expr, vars, 'IO_MAPPING_ERROR'))
  }
}

function typeMismatch(expr: Expr, expected: string, actual: unknown, warnings: string[] = []): IncidentError {
  const text = expr.startsWith('=') ? expr.slice(1) : expr
  return new IncidentError('EXTRACT_VALUE_ERROR', withWarnings(
    `Expected result of the expression '${text}' to be '${expected}', but was '${feelTypeOf(actual)}'.`, warnings))
}

/** Zeebe's ExpressionProcessor appends the evaluation warnings, one per line, to the failure. */
function withWarnings(message: string, warnings: string[]): string {
  return warnings.length === 0 ? message : `${message} The evaluation reported the following warnings:\n${warnings.join('\n')}`
}
