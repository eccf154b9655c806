/**
 * DMN parsing and validation (dmn-moddle) into plain records the decision evaluator interprets.
 * Every expression in a DMN file is FEEL without the leading "=" used in BPMN.
 */
import { feelSyntaxError, unaryTestSyntaxError } from '../feel'
import type { Problem } from './types'
import { xmlDepthProblem } from './xml-depth'
import { schemaProblem } from './xsd'

export type HitPolicy = 'UNIQUE' | 'FIRST' | 'PRIORITY' | 'ANY' | 'COLLECT' | 'RULE ORDER' | 'OUTPUT ORDER'
export type Aggregation = 'SUM' | 'MIN' | 'MAX' | 'COUNT'

/** A decision table: inputs, outputs and rules, each entry as FEEL text. */
export interface DecisionTableModel {
  hitPolicy: HitPolicy
  /** COLLECT only */
  aggregation?: Aggregation
  inputs: { id: string; label?: string; expression: string }[]
  outputs: {
    id: string
    label?: string
    /** may be "" for a table with a single output */
    name: string
    defaultOutputEntry?: string
    /** FEEL literals in priority order (PRIORITY, OUTPUT ORDER) */
    outputValues?: string[]
  }[]
  /** entries are "" when empty; input entry "-" matches anything */
  rules: { id: string; inputEntries: string[]; outputEntries: string[] }[]
}

/** One decision: a table or a literal expression, and the decisions it requires. */
export interface DecisionModel {
  id: string
  name?: string
  versionTag?: string
  /** ids of the decisions whose results this one reads */
  requiredDecisions: string[]
  /** ids of the business knowledge models it calls (knowledge requirements): functions in its FEEL */
  requiredKnowledge?: string[]
  table?: DecisionTableModel
  literalExpression?: { expression: string; variableName: string }
  /** a boxed context, list, relation or invocation (DMN 1.3 boxed expressions, which dmn-scala evaluates) */
  boxed?: BoxedExpression
}

/** DMN's boxed expressions, nested as the file nests them. */
export type BoxedExpression =
  | { kind: 'literal'; expression: string }
  | { kind: 'context'; entries: { variable?: string; value: BoxedExpression }[] }
  | { kind: 'list'; items: BoxedExpression[] }
  | { kind: 'relation'; columns: string[]; rows: BoxedExpression[][] }
  | { kind: 'invocation'; functionName: string; bindings: { parameter: string; value?: BoxedExpression }[] }

/** A business knowledge model: a function of its parameters an invocation calls by name. */
export interface BkmModel {
  id: string
  name: string
  parameters: string[]
  body: BoxedExpression
  /** ids of the business knowledge models its body calls */
  requiredKnowledge?: string[]
}

/** A decision requirements graph: one DMN file. */
export interface DrgModel {
  id: string
  name?: string
  decisions: DecisionModel[]
  bkms?: BkmModel[]
}

const HIT_POLICIES: readonly string[] = ['UNIQUE', 'FIRST', 'PRIORITY', 'ANY', 'COLLECT', 'RULE ORDER', 'OUTPUT ORDER']
const AGGREGATIONS: readonly string[] = ['SUM', 'MIN', 'MAX', 'COUNT']

/** The slice of a moddle element read here; dmn-moddle ships no type declarations. */
interface ModdleElement {
  $type: string
  id?: string
  name?: string
  label?: string
  text?: string
  href?: string
  value?: string
  hitPolicy?: string
  aggregation?: string
  drgElement?: ModdleElement[]
  decisionLogic?: ModdleElement
  informationRequirement?: ModdleElement[]
  requiredDecision?: ModdleElement
  knowledgeRequirement?: ModdleElement[]
  requiredKnowledge?: ModdleElement
  variable?: ModdleElement
  extensionElements?: { values?: ModdleElement[] }
  input?: ModdleElement[]
  inputExpression?: ModdleElement
  output?: ModdleElement[]
  outputValues?: ModdleElement
  defaultOutputEntry?: ModdleElement
  rule?: ModdleElement[]
  inputEntry?: ModdleElement[]
  outputEntry?: ModdleElement[]
  contextEntry?: ModdleElement[]
  elements?: ModdleElement[]
  column?: ModdleElement[]
  row?: ModdleElement[]
  calledFunction?: ModdleElement
  binding?: ModdleElement[]
  parameter?: ModdleElement
  bindingFormula?: ModdleElement
  encapsulatedLogic?: ModdleElement
  formalParameter?: ModdleElement[]
  body?: ModdleElement
}

interface ParseResult {
  rootElement: ModdleElement
  warnings: { message: string }[]
}

interface DmnModdleInstance {
  fromXML(xml: string): Promise<ParseResult>
}

let moddle: DmnModdleInstance | undefined

async function dmnModdle(): Promise<DmnModdleInstance> {
  if (!moddle) {
    // A computed specifier keeps tsc from looking for the declarations dmn-moddle lacks.
    const specifier = 'dmn-moddle'
    const loaded = (await import(specifier)) as { DmnModdle: () => DmnModdleInstance }
    moddle = loaded.DmnModdle()
  }
  return moddle
}

/** Parses a DMN 1.3 file and lists every problem found, as a deployment rejection needs them all. */
export async function parseDmn(xml: string): Promise<{ drg?: DrgModel; problems: Problem[] }> {
  const tooDeep = xmlDepthProblem(xml)
  if (tooDeep !== undefined) return { problems: [tooDeep] }
  const invalid = await schemaProblem(xml, 'dmn')
  if (invalid !== undefined) return { problems: [invalid] }
  let parsed: ParseResult
  try {
    parsed = await (await dmnModdle()).fromXML(xml)
  } catch (err) {
    return { problems: [{ message: (err as Error).message }] }
  }
  const problems: Problem[] = parsed.warnings
    .filter((warning) => /duplicate ID/.test(warning.message))
    .map((warning) => ({ message: warning.message }))

  const definitions = parsed.rootElement
  // Business knowledge models are functions the DRG's FEEL may call by name, multi-word names too.
  const bkmElements = (definitions.drgElement ?? []).filter((element) => element.$type === 'dmn:BusinessKnowledgeModel')
  functionNames = bkmElements.map((element) => element.name ?? element.id ?? '')
  try {
    return readDefinitions(definitions, bkmElements, problems)
  } finally {
    functionNames = []
  }
}

/** The business knowledge model names of the DRG being read, known to the FEEL syntax check (read synchronously). */
let functionNames: string[] = []

function requiredKnowledgeOf(element: ModdleElement): string[] | undefined {
  const ids = (element.knowledgeRequirement ?? [])
    .map((requirement) => requirement.requiredKnowledge?.href)
    .filter((href): href is string => href !== undefined)
    .map((href) => href.replace(/^#/, ''))
  return ids.length > 0 ? ids : undefined
}

function readDefinitions(definitions: ModdleElement, bkmElements: ModdleElement[], problems: Problem[]): { drg?: DrgModel; problems: Problem[] } {
  const decisions = (definitions.drgElement ?? [])
    .filter((element) => element.$type === 'dmn:Decision')
    .map((element) => readDecision(element, problems))
  if (decisions.length === 0) {
    problems.push({ elementId: definitions.id, message: 'Expected at least one decision, but the file contains none' })
  }
  checkRequirements(decisions, problems)
  const bkms = bkmElements.map((element): BkmModel => {
    const requiredKnowledge = requiredKnowledgeOf(element)
    return {
      id: element.id ?? '',
      name: element.name ?? element.id ?? '',
      parameters: (element.encapsulatedLogic?.formalParameter ?? []).map((parameter) => parameter.name ?? ''),
      body: readBoxed(element.id ?? '', element.encapsulatedLogic?.body, problems),
      ...(requiredKnowledge ? { requiredKnowledge } : {}),
    }
  })

  const drg: DrgModel = { id: definitions.id ?? '', decisions, ...(bkms.length > 0 ? { bkms } : {}) }
  if (definitions.name) drg.name = definitions.name
  return problems.length > 0 ? { problems } : { drg, problems }
}

function readDecision(element: ModdleElement, problems: Problem[]): DecisionModel {
  const id = element.id ?? ''
  const decision: DecisionModel = {
    id,
    requiredDecisions: (element.informationRequirement ?? [])
      .map((requirement) => requirement.requiredDecision?.href)
      .filter((href): href is string => href !== undefined)
      .map((href) => href.replace(/^#/, '')),
  }
  if (element.name) decision.name = element.name
  const requiredKnowledge = requiredKnowledgeOf(element)
  if (requiredKnowledge) decision.requiredKnowledge = requiredKnowledge
  const versionTag = element.extensionElements?.values?.find((value) => value.$type === 'zeebe:versionTag')?.value
  if (versionTag) decision.versionTag = versionTag

  const logic = element.decisionLogic
  if (logic?.$type === 'dmn:DecisionTable') {
    decision.table = readTable(id, logic, problems)
  } else if (logic?.$type === 'dmn:LiteralExpression') {
    const expression = text(logic)
    checkExpression(id, expression, `Literal expression of decision '${id}'`, problems)
    decision.literalExpression = { expression, variableName: element.variable?.name ?? id }
  } else if (logic !== undefined && BOXED_TYPES.has(logic.$type)) {
    decision.boxed = readBoxed(id, logic, problems)
  } else {
    problems.push({ elementId: id, message: `Expected decision '${id}' to have a decision table, a literal expression, a context, a list, a relation or an invocation, but it has ${logic ? `a ${logic.$type.replace(/^dmn:/, '')}` : 'none'}` })
  }
  return decision
}

const BOXED_TYPES = new Set(['dmn:Context', 'dmn:List', 'dmn:Relation', 'dmn:Invocation'])

/** A boxed expression, each literal checked as FEEL. */
function readBoxed(ownerId: string, element: ModdleElement | undefined, problems: Problem[]): BoxedExpression {
  switch (element?.$type) {
    case 'dmn:LiteralExpression': {
      const expression = text(element)
      checkExpression(ownerId, expression, `Expression '${element.id ?? ''}' of '${ownerId}'`, problems)
      return { kind: 'literal', expression }
    }
    case 'dmn:Context':
      return { kind: 'context', entries: (element.contextEntry ?? []).map((entry) => ({
        ...(entry.variable?.name ? { variable: entry.variable.name } : {}),
        value: readBoxed(ownerId, entry.value as unknown as ModdleElement, problems),
      })) }
    case 'dmn:List':
      return { kind: 'list', items: (element.elements ?? []).map((item) => readBoxed(ownerId, item, problems)) }
    case 'dmn:Relation':
      return {
        kind: 'relation',
        columns: (element.column ?? []).map((column) => column.name ?? ''),
        rows: (element.row ?? []).map((row) => (row.elements ?? []).map((cell) => readBoxed(ownerId, cell, problems))),
      }
    case 'dmn:Invocation':
      return {
        kind: 'invocation',
        functionName: text(element.calledFunction),
        bindings: (element.binding ?? []).map((binding) => ({
          parameter: binding.parameter?.name ?? '',
          ...(binding.bindingFormula ? { value: readBoxed(ownerId, binding.bindingFormula, problems) } : {}),
        })),
      }
    default:
      problems.push({ elementId: ownerId, message: `Expected an expression in '${ownerId}', but found ${element ? `a ${element.$type.replace(/^dmn:/, '')}` : 'none'}` })
      return { kind: 'literal', expression: 'null' }
  }
}

function readTable(decisionId: string, element: ModdleElement, problems: Problem[]): DecisionTableModel {
  const hitPolicy = element.hitPolicy ?? 'UNIQUE'
  if (!HIT_POLICIES.includes(hitPolicy)) {
    problems.push({ elementId: decisionId, message: `Unknown hit policy '${hitPolicy}' in decision '${decisionId}'` })
  }
  const table: DecisionTableModel = { hitPolicy: hitPolicy as HitPolicy, inputs: [], outputs: [], rules: [] }
  if (element.aggregation !== undefined) {
    if (!AGGREGATIONS.includes(element.aggregation)) {
      problems.push({ elementId: decisionId, message: `Unknown aggregation '${element.aggregation}' in decision '${decisionId}'` })
    } else if (hitPolicy !== 'COLLECT') {
      problems.push({ elementId: decisionId, message: `Aggregation '${element.aggregation}' is only allowed with hit policy COLLECT, but decision '${decisionId}' has hit policy ${hitPolicy}` })
    }
    table.aggregation = element.aggregation as Aggregation
  }

  for (const input of element.input ?? []) {
    const id = input.id ?? ''
    const expression = text(input.inputExpression)
    checkExpression(id, expression, `Input expression of input '${id}' in decision '${decisionId}'`, problems)
    table.inputs.push(input.label ? { id, label: input.label, expression } : { id, expression })
  }

  const outputs = element.output ?? []
  if (outputs.length === 0) {
    problems.push({ elementId: decisionId, message: `Expected decision table '${decisionId}' to have at least one output` })
  }
  for (const output of outputs) {
    const id = output.id ?? ''
    const name = output.name ?? ''
    if (!name && outputs.length > 1) {
      problems.push({ elementId: id, message: `Expected output '${id}' of decision '${decisionId}' to have a name, since the table has several outputs` })
    }
    const model: DecisionTableModel['outputs'][number] = { id, name }
    if (output.label) model.label = output.label
    const defaultOutputEntry = text(output.defaultOutputEntry)
    if (defaultOutputEntry) {
      checkExpression(id, defaultOutputEntry, `Default output entry of output '${id}' in decision '${decisionId}'`, problems)
      model.defaultOutputEntry = defaultOutputEntry
    }
    const outputValues = text(output.outputValues)
    if (outputValues) {
      const error = unaryTestSyntaxError(outputValues)
      if (error !== undefined) {
        problems.push({ elementId: id, message: `Output values of output '${id}' in decision '${decisionId}': ${error}` })
      }
      model.outputValues = splitList(outputValues)
    }
    table.outputs.push(model)
  }

  for (const rule of element.rule ?? []) {
    const id = rule.id ?? ''
    const inputEntries = (rule.inputEntry ?? []).map((entry) => text(entry))
    const outputEntries = (rule.outputEntry ?? []).map((entry) => text(entry))
    if (inputEntries.length !== table.inputs.length) {
      problems.push({ elementId: id, message: `Expected rule '${id}' of decision '${decisionId}' to have ${table.inputs.length} input entries, but it has ${inputEntries.length}` })
    }
    if (outputEntries.length !== table.outputs.length) {
      problems.push({ elementId: id, message: `Expected rule '${id}' of decision '${decisionId}' to have ${table.outputs.length} output entries, but it has ${outputEntries.length}` })
    }
    inputEntries.forEach((entry, index) => {
      const error = entry === '' ? undefined : unaryTestSyntaxError(entry)
      if (error !== undefined) {
        problems.push({ elementId: id, message: `Input entry ${index + 1} of rule '${id}' in decision '${decisionId}': ${error}` })
      }
    })
    outputEntries.forEach((entry, index) => {
      const error = entry === '' ? undefined : feelSyntaxError(entry, functionNames)
      if (error !== undefined) {
        problems.push({ elementId: id, message: `Output entry ${index + 1} of rule '${id}' in decision '${decisionId}': ${error}` })
      }
    })
    table.rules.push({ id, inputEntries, outputEntries })
  }
  return table
}

/** `what` names the expression's place, e.g. "Input expression of input 'i1' in decision 'd'". */
function checkExpression(elementId: string, expression: string, what: string, problems: Problem[]): void {
  const error = feelSyntaxError(expression, functionNames)
  if (error !== undefined) problems.push({ elementId, message: `${what}: ${error}` })
}

/** Unknown required decisions, then cycles, each reported once at the decision that closes it. */
function checkRequirements(decisions: DecisionModel[], problems: Problem[]): void {
  const byId = new Map(decisions.map((decision) => [decision.id, decision]))
  for (const decision of decisions) {
    for (const required of decision.requiredDecisions) {
      if (!byId.has(required)) {
        problems.push({ elementId: decision.id, message: `Decision '${decision.id}' requires the unknown decision '${required}'` })
      }
    }
  }
  // Depth-first over the requirements with an explicit stack: a chain of requirements as long as
  // the file allows must not exhaust the call stack.
  const done = new Set<string>()
  const onPath = new Map<string, number>()
  const path: string[] = []
  for (const root of decisions) {
    if (done.has(root.id)) continue
    const stack: { decision: DecisionModel; next: number }[] = [{ decision: root, next: 0 }]
    onPath.set(root.id, 0)
    path.push(root.id)
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]
      if (frame.next === frame.decision.requiredDecisions.length) {
        stack.pop()
        path.pop()
        onPath.delete(frame.decision.id)
        done.add(frame.decision.id)
        continue
      }
      const required = byId.get(frame.decision.requiredDecisions[frame.next++])
      if (required === undefined || done.has(required.id)) continue
      const cycleStart = onPath.get(required.id)
      if (cycleStart !== undefined) {
        const cycle = [...path.slice(cycleStart), required.id]
        problems.push({ elementId: required.id, message: `Decision '${required.id}' is part of a requirement cycle: ${cycle.join(' -> ')}` })
        continue
      }
      onPath.set(required.id, path.length)
      path.push(required.id)
      stack.push({ decision: required, next: 0 })
    }
  }
}

function text(element: ModdleElement | undefined): string {
  return (element?.text ?? '').trim()
}

/** Splits a comma-separated list of FEEL literals, keeping commas inside strings. */
function splitList(list: string): string[] {
  const items: string[] = []
  let current = ''
  let inString = false
  for (let i = 0; i < list.length; i++) {
    const char = list[i]
    if (char === '"' && list[i - 1] !== '\\') inString = !inString
    if (char === ',' && !inString) {
      items.push(current.trim())
      current = ''
    } else {
      current += char
    }
  }
  items.push(current.trim())
  return items.filter((item) => item !== '')
}
