/**
 * Decision evaluation over a parsed DRG, following dmn-scala as Zeebe 8.8 embeds it: required
 * decisions first, hit policies, and the result shapes Zeebe hands to a business-rule task.
 */
import type { Clock } from '../clock'
import { evaluateFeel, evaluateUnaryTest, feelFunction, feelToJson } from '../feel'
import type { BkmModel, BoxedExpression, DecisionModel, DecisionTableModel, DrgModel } from '../model/dmn'
import type { JsonValue } from '../state/records'
import { jsonEqual } from './variables'

/** One rule that contributed to a decision table's output, with its evaluated output entries. */
export interface MatchedRule {
  ruleId: string
  /** 1-based position of the rule in the table */
  ruleIndex: number
  evaluatedOutputs: { outputId: string; outputName: string; outputValue: JsonValue }[]
}

/** One decision evaluated along the way, as reported in Zeebe's evaluatedDecisions. */
export interface EvaluatedDecision {
  decisionId: string
  decisionName: string
  decisionType: 'DECISION_TABLE' | 'LITERAL_EXPRESSION' | 'CONTEXT' | 'LIST' | 'RELATION' | 'INVOCATION'
  output: JsonValue
  matchedRules: MatchedRule[]
  evaluatedInputs: { inputId: string; inputName: string; inputValue: JsonValue }[]
}

/** The outcome of evaluating a decision and the decisions it requires. */
export interface DecisionEvaluation {
  /** the requested decision's result; null when the evaluation failed */
  output: JsonValue
  /** set when the evaluation failed: the decision that failed, possibly a required one */
  failedDecisionId?: string
  failureMessage?: string
  /** successfully evaluated decisions, required ones first */
  evaluated: EvaluatedDecision[]
}

/** A failure inside one decision; turned into failedDecisionId + failureMessage at the top. */
class DecisionFailure extends Error {
  constructor(readonly decisionId: string, message: string) {
    super(message)
  }
}

/**
 * Evaluates `decisionId` of `drg`. Never throws for evaluation failures: it returns
 * failedDecisionId and failureMessage, which Zeebe turns into a DECISION_EVALUATION_ERROR.
 */
export function evaluateDecision(drg: DrgModel, decisionId: string, variables: Record<string, unknown>, clock: Clock): DecisionEvaluation {
  const evaluation = new DrgEvaluation(drg, variables, clock)
  try {
    return { output: feelToJson(evaluation.resultOf(decisionId)), evaluated: evaluation.evaluated }
  } catch (err) {
    if (!(err instanceof DecisionFailure)) throw err
    const where = err.decisionId === decisionId ? '' : ` (required decision '${err.decisionId}')`
    return {
      output: null,
      failedDecisionId: err.decisionId,
      failureMessage: `Expected to evaluate decision '${decisionId}'${where}, but ${err.message}`,
      evaluated: evaluation.evaluated,
    }
  }
}

class DrgEvaluation {
  readonly evaluated: EvaluatedDecision[] = []
  /** raw FEEL results, so that a required result keeps its FEEL type (dates, durations) */
  private readonly results = new Map<string, unknown>()
  private readonly inProgress = new Set<string>()

  constructor(private readonly drg: DrgModel, private readonly variables: Record<string, unknown>, private readonly clock: Clock) {}

  resultOf(decisionId: string): unknown {
    if (this.results.has(decisionId)) return this.results.get(decisionId)
    const decision = this.drg.decisions.find((candidate) => candidate.id === decisionId)
    if (!decision) throw new DecisionFailure(decisionId, `no decision found for id '${decisionId}'`)
    if (this.inProgress.has(decisionId)) throw new DecisionFailure(decisionId, `decision '${decisionId}' requires itself`)
    this.inProgress.add(decisionId)

    const context: Record<string, unknown> = { ...this.variables, ...this.functions(decision.id, decision.requiredKnowledge) }
    for (const required of decision.requiredDecisions) context[required] = this.resultOf(required)

    const result = decision.table
      ? new TableEvaluation(decision, decision.table, context, this.clock).run()
      : decision.boxed
        ? this.boxedDecision(decision, decision.boxed, context)
        : this.literal(decision, context)
    this.inProgress.delete(decisionId)
    this.results.set(decisionId, result.raw)
    this.evaluated.push(result.detail)
    return result.raw
  }

  private boxedDecision(decision: DecisionModel, boxed: BoxedExpression, context: Record<string, unknown>): { raw: unknown; detail: EvaluatedDecision } {
    const raw = this.boxed(decision.id, boxed, context)
    const type = boxed.kind === 'context' ? 'CONTEXT' : boxed.kind === 'list' ? 'LIST' : boxed.kind === 'relation' ? 'RELATION' : boxed.kind === 'invocation' ? 'INVOCATION' : 'LITERAL_EXPRESSION'
    return { raw, detail: { ...describe(decision, type), output: feelToJson(raw), matchedRules: [], evaluatedInputs: [] } }
  }

  /** A boxed expression's value: a context's entries in order, each seeing those before it (an entry without a variable is the result). */
  private boxed(ownerId: string, expression: BoxedExpression, scope: Record<string, unknown>): unknown {
    switch (expression.kind) {
      case 'literal':
        return evaluate(ownerId, expression.expression, scope, this.clock, 'boxed expression')
      case 'context': {
        const local = { ...scope }
        const result: Record<string, unknown> = {}
        for (const entry of expression.entries) {
          const value = this.boxed(ownerId, entry.value, local)
          if (entry.variable === undefined) return value
          result[entry.variable] = value
          local[entry.variable] = value
        }
        return result
      }
      case 'list':
        return expression.items.map((item) => this.boxed(ownerId, item, scope))
      case 'relation':
        return expression.rows.map((row) => Object.fromEntries(expression.columns.map((column, index) => [column, row[index] ? this.boxed(ownerId, row[index], scope) : null])))
      case 'invocation': {
        const bkm = (this.drg.bkms ?? []).find((candidate) => candidate.name === expression.functionName || candidate.id === expression.functionName)
        if (!bkm) throw new DecisionFailure(ownerId, `no business knowledge model named '${expression.functionName}' to invoke`)
        const parameters: Record<string, unknown> = {}
        for (const binding of expression.bindings) parameters[binding.parameter] = binding.value ? this.boxed(ownerId, binding.value, scope) : null
        return this.invoke(ownerId, bkm, parameters)
      }
    }
  }

  /** A business knowledge model's body, its parameters (null when not given) and the models it requires in scope. */
  private invoke(ownerId: string, bkm: BkmModel, parameters: Record<string, unknown>): unknown {
    const scope: Record<string, unknown> = { ...this.functions(ownerId, bkm.requiredKnowledge) }
    for (const name of bkm.parameters) scope[name] = name in parameters ? parameters[name] : null
    return this.boxed(ownerId, bkm.body, scope)
  }

  /** The required business knowledge models, as FEEL functions of their parameters (called by name, as dmn-scala offers them). */
  private functions(ownerId: string, requiredKnowledge: string[] | undefined): Record<string, unknown> {
    const functions: Record<string, unknown> = {}
    for (const id of requiredKnowledge ?? []) {
      const bkm = (this.drg.bkms ?? []).find((candidate) => candidate.id === id)
      if (!bkm) continue
      functions[bkm.name] = feelFunction(bkm.parameters, (...args: unknown[]) =>
        this.invoke(ownerId, bkm, Object.fromEntries(bkm.parameters.map((name, index) => [name, args[index] ?? null]))))
    }
    return functions
  }

  private literal(decision: DecisionModel, context: Record<string, unknown>): { raw: unknown; detail: EvaluatedDecision } {
    const expression = decision.literalExpression?.expression
    if (expression === undefined) throw new DecisionFailure(decision.id, `decision '${decision.id}' has no decision logic`)
    const raw = evaluate(decision.id, expression, context, this.clock, 'literal expression')
    return { raw, detail: { ...describe(decision, 'LITERAL_EXPRESSION'), output: feelToJson(raw), matchedRules: [], evaluatedInputs: [] } }
  }
}

interface RuleOutput {
  ruleId: string
  ruleIndex: number
  /** raw values in output order */
  values: unknown[]
}

class TableEvaluation {
  private readonly inputValues: unknown[] = []
  private readonly detail: EvaluatedDecision

  constructor(private readonly decision: DecisionModel, private readonly table: DecisionTableModel, private readonly context: Record<string, unknown>, private readonly clock: Clock) {
    this.detail = { ...describe(decision, 'DECISION_TABLE'), output: null, matchedRules: [], evaluatedInputs: [] }
  }

  run(): { raw: unknown; detail: EvaluatedDecision } {
    for (const input of this.table.inputs) {
      const value = evaluate(this.decision.id, input.expression, this.context, this.clock, `input '${input.label ?? input.id}'`)
      this.inputValues.push(value)
      this.detail.evaluatedInputs.push({ inputId: input.id, inputName: input.label ?? input.id, inputValue: feelToJson(value) })
    }
    const matches = this.table.rules.map((_, index) => index).filter((index) => this.matches(index))
    const raw = matches.length === 0 ? this.defaults() : this.applyHitPolicy(matches)
    this.detail.output = feelToJson(raw)
    return { raw, detail: this.detail }
  }

  private matches(ruleIndex: number): boolean {
    const rule = this.table.rules[ruleIndex]
    return rule.inputEntries.every((entry, inputIndex) => {
      if (entry === '' || entry === '-') return true
      let outcome: unknown
      try {
        outcome = evaluateUnaryTest(entry, this.inputValues[inputIndex], this.context, this.clock)
      } catch (err) {
        throw new DecisionFailure(this.decision.id, `${(err as Error).message} (input entry of rule '${rule.id}')`)
      }
      if (outcome === true) return true
      if (outcome === false || outcome === null) return false
      throw new DecisionFailure(this.decision.id, `expected the input entry '${entry}' of rule '${rule.id}' to be a boolean, but was '${JSON.stringify(feelToJson(outcome))}'`)
    })
  }

  private applyHitPolicy(matches: number[]): unknown {
    const { hitPolicy, aggregation } = this.table
    switch (hitPolicy) {
      case 'UNIQUE': {
        if (matches.length > 1) {
          throw new DecisionFailure(this.decision.id, `${matches.length} rules matched (${this.ruleList(matches)}) and hit policy UNIQUE allows only one`)
        }
        return this.single(this.output(matches[0]))
      }
      case 'FIRST':
        return this.single(this.output(matches[0]))
      case 'ANY': {
        const outputs = matches.map((index) => this.output(index))
        const first = outputs[0].values.map(feelToJson)
        const differing = outputs.find((output) => !jsonEqual(output.values.map(feelToJson), first))
        if (differing) {
          throw new DecisionFailure(this.decision.id, `the matching rules ${this.ruleList(matches)} have different outputs and hit policy ANY requires equal ones`)
        }
        return this.single(outputs[0])
      }
      case 'PRIORITY':
        return this.single(this.byPriority(matches.map((index) => this.output(index)))[0])
      case 'OUTPUT ORDER':
        return this.byPriority(matches.map((index) => this.output(index))).map((output) => this.shape(output))
      case 'RULE ORDER':
        return matches.map((index) => this.shape(this.output(index)))
      case 'COLLECT': {
        const outputs = matches.map((index) => this.output(index))
        return aggregation ? this.aggregate(aggregation, outputs) : outputs.map((output) => this.shape(output))
      }
    }
  }

  private aggregate(aggregation: NonNullable<DecisionTableModel['aggregation']>, outputs: RuleOutput[]): unknown {
    if (aggregation === 'COUNT') return outputs.length
    if (this.table.outputs.length !== 1) {
      throw new DecisionFailure(this.decision.id, `aggregation ${aggregation} needs a single output and the table has ${this.table.outputs.length}`)
    }
    const values = outputs.map((output) => output.values[0])
    const notNumber = values.find((value) => typeof value !== 'number')
    if (notNumber !== undefined) {
      throw new DecisionFailure(this.decision.id, `aggregation ${aggregation} needs numeric outputs and found '${JSON.stringify(feelToJson(notNumber))}'`)
    }
    const numbers = values as number[]
    if (aggregation === 'SUM') return numbers.reduce((sum, value) => sum + value, 0)
    return aggregation === 'MIN' ? Math.min(...numbers) : Math.max(...numbers)
  }

  /** Evaluates a matched rule's output entries and records it as a matched rule. */
  private output(ruleIndex: number): RuleOutput {
    const rule = this.table.rules[ruleIndex]
    const values = this.table.outputs.map((output, outputIndex) => {
      const entry = rule.outputEntries[outputIndex] ?? ''
      if (entry === '') return null
      return evaluate(this.decision.id, entry, this.context, this.clock, `output entry of rule '${rule.id}'`)
    })
    this.detail.matchedRules.push({
      ruleId: rule.id,
      ruleIndex: ruleIndex + 1,
      evaluatedOutputs: this.table.outputs.map((output, outputIndex) => ({
        outputId: output.id,
        outputName: output.name || output.label || output.id,
        outputValue: feelToJson(values[outputIndex]),
      })),
    })
    return { ruleId: rule.id, ruleIndex: ruleIndex + 1, values }
  }

  /** A single-hit policy reports only the rule it picked. */
  private single(picked: RuleOutput): unknown {
    this.detail.matchedRules = this.detail.matchedRules.filter((rule) => rule.ruleIndex === picked.ruleIndex)
    return this.shape(picked)
  }

  private shape(output: RuleOutput): unknown {
    if (this.table.outputs.length === 1) return output.values[0]
    return Object.fromEntries(this.table.outputs.map((definition, index) => [definition.name, output.values[index]]))
  }

  /** No rule matched: the default output entries when any is defined, otherwise null. */
  private defaults(): unknown {
    if (!this.table.outputs.some((output) => output.defaultOutputEntry !== undefined)) return null
    return this.shape({
      ruleId: '',
      ruleIndex: 0,
      values: this.table.outputs.map((output) => output.defaultOutputEntry === undefined
        ? null
        : evaluate(this.decision.id, output.defaultOutputEntry, this.context, this.clock, `default output entry of output '${output.name || output.id}'`)),
    })
  }

  /**
   * Stable sort by the position of each output value in its output's list of output values,
   * outputs compared left to right; a value missing from the list ranks last.
   */
  private byPriority(outputs: RuleOutput[]): RuleOutput[] {
    const priorities = this.table.outputs.map((output) => (output.outputValues ?? []).map((literal) =>
      feelToJson(evaluate(this.decision.id, literal, {}, this.clock, `output values of output '${output.name || output.id}'`))))
    const rank = (output: RuleOutput, outputIndex: number): number => {
      const value = feelToJson(output.values[outputIndex])
      const position = priorities[outputIndex].findIndex((candidate) => jsonEqual(candidate, value))
      return position < 0 ? Number.MAX_SAFE_INTEGER : position
    }
    return [...outputs].sort((a, b) => {
      for (let index = 0; index < priorities.length; index++) {
        const difference = rank(a, index) - rank(b, index)
        if (difference !== 0) return difference
      }
      return a.ruleIndex - b.ruleIndex
    })
  }

  private ruleList(matches: number[]): string {
    return matches.map((index) => `'${this.table.rules[index].id}'`).join(', ')
  }
}

function describe(decision: DecisionModel, decisionType: EvaluatedDecision['decisionType']): Pick<EvaluatedDecision, 'decisionId' | 'decisionName' | 'decisionType'> {
  return { decisionId: decision.id, decisionName: decision.name ?? decision.id, decisionType }
}

/** `where` names the expression's place in the decision, e.g. "input 'Age'". */
function evaluate(decisionId: string, expression: string, context: Record<string, unknown>, clock: Clock, where: string): unknown {
  try {
    return evaluateFeel(expression, context, clock).value
  } catch (err) {
    throw new DecisionFailure(decisionId, `${(err as Error).message} (${where})`)
  }
}
