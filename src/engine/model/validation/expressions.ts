/** Expression sites and variable mappings (zeebe:ioMapping). */
import { feelSyntaxError } from '../../feel'
import { elements, extension, str, trimmed, type ModdleElement } from '../moddle'
import type { ValidationContext } from './context'

/** A variable name or a dotted path into one, as a mapping target. */
const TARGET_PATH = /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*$/u
const TARGET_PATH_PATTERN = '[a-zA-Z_][a-zA-Z0-9_]*(\\.[a-zA-Z_][a-zA-Z0-9_]*)*'

export interface ExpressionSite {
  /** an empty value is a problem */
  mandatory?: boolean
  /** only FEEL is accepted: conditions, output sources, input collections, scripts, correlation keys */
  nonStatic?: boolean
}

/** Checks one expression site: a FEEL expression ("=...") must parse. */
export function checkExpression(ctx: ValidationContext, elementId: string, expression: string | undefined, site: ExpressionSite): void {
  if (expression === undefined || expression === '') {
    if (site.mandatory === true) ctx.problem(elementId, 'Expected expression but not found.')
    return
  }
  if (expression.startsWith('=')) {
    const syntaxError = feelSyntaxError(expression.slice(1))
    if (syntaxError !== undefined) ctx.problem(elementId, syntaxError)
  } else if (site.nonStatic === true) {
    ctx.problem(elementId,
      `Expected expression but found static value '${expression}'. An expression must start with '=' (e.g. '=${expression}').`)
  }
}

/** Input sources may be static, output sources must be FEEL; every target must be a variable path. */
export function checkMappings(ctx: ValidationContext, item: ModdleElement, elementId: string): void {
  const ioMapping = extension(item, 'zeebe:IoMapping')
  for (const input of elements(ioMapping, 'inputParameters')) {
    checkExpression(ctx, elementId, trimmed(str(input, 'source')), {})
    checkTarget(ctx, elementId, input)
  }
  for (const output of elements(ioMapping, 'outputParameters')) {
    checkExpression(ctx, elementId, trimmed(str(output, 'source')), { mandatory: true, nonStatic: true })
    checkTarget(ctx, elementId, output)
  }
}

function checkTarget(ctx: ValidationContext, elementId: string, parameter: ModdleElement): void {
  const target = trimmed(str(parameter, 'target')) ?? ''
  if (target === '') ctx.problem(elementId, 'Expected path expression but not found.')
  else if (!TARGET_PATH.test(target)) {
    ctx.problem(elementId, `Expected path expression '${target}' but doesn't match the pattern '${TARGET_PATH_PATTERN}'.`)
  }
}
