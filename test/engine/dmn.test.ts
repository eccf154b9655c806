import type { Clock } from '../../src/engine/clock'
import { parseDmn, type DrgModel } from '../../src/engine/model/dmn'
import { evaluateDecision } from '../../src/engine/runtime/decision'

const clock: Clock = { now: () => Date.parse('2025-03-14T10:00:00Z') }

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function definitions(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  id="drg" name="Test DRG" namespace="http://camunda.org/schema/1.0/dmn">
${body}
</definitions>`
}

interface TableSpec {
  id?: string
  hitPolicy?: string
  aggregation?: string
  inputs: string[]
  outputs: (string | { name: string; defaultOutputEntry?: string; outputValues?: string })[]
  /** each rule: input entries then output entries */
  rules: [string[], string[]][]
  requires?: string[]
}

function decisionTable(spec: TableSpec): string {
  const id = spec.id ?? 'decision'
  const attributes = [spec.hitPolicy ? `hitPolicy="${spec.hitPolicy}"` : '', spec.aggregation ? `aggregation="${spec.aggregation}"` : ''].join(' ')
  const inputs = spec.inputs.map((expression, index) =>
    `<input id="${id}-input-${index + 1}" label="Input ${index + 1}"><inputExpression><text>${escape(expression)}</text></inputExpression></input>`)
  const outputs = spec.outputs.map((output, index) => {
    const { name, defaultOutputEntry, outputValues } = typeof output === 'string' ? { name: output } : output
    return `<output id="${id}-output-${index + 1}" name="${name}">` +
      (outputValues ? `<outputValues><text>${escape(outputValues)}</text></outputValues>` : '') +
      (defaultOutputEntry ? `<defaultOutputEntry><text>${escape(defaultOutputEntry)}</text></defaultOutputEntry>` : '') +
      '</output>'
  })
  const rules = spec.rules.map(([inputEntries, outputEntries], index) =>
    `<rule id="${id}-rule-${index + 1}">` +
    inputEntries.map((entry) => `<inputEntry><text>${escape(entry)}</text></inputEntry>`).join('') +
    outputEntries.map((entry) => `<outputEntry><text>${escape(entry)}</text></outputEntry>`).join('') +
    '</rule>')
  const requirements = (spec.requires ?? []).map((required) =>
    `<informationRequirement id="${id}-requires-${required}"><requiredDecision href="#${required}"/></informationRequirement>`)
  return `<decision id="${id}" name="Decision ${id}">${requirements.join('')}
  <decisionTable id="${id}-table" ${attributes}>${inputs.join('')}${outputs.join('')}${rules.join('\n')}</decisionTable>
</decision>`
}

async function drgOf(xml: string): Promise<DrgModel> {
  const { drg, problems } = await parseDmn(xml)
  expect(problems).toEqual([])
  if (!drg) throw new Error('no DRG')
  return drg
}

async function evaluateTable(spec: TableSpec, variables: Record<string, unknown>) {
  const drg = await drgOf(definitions(decisionTable(spec)))
  return evaluateDecision(drg, spec.id ?? 'decision', variables, clock)
}

const scores: TableSpec['rules'] = [
  [['>= 90'], ['"A"', '1']],
  [['>= 50'], ['"B"', '2']],
  [['< 50'], ['"C"', '3']],
]

describe('parseDmn', () => {
  test('reads decisions, tables, literal expressions, requirements and version tags', async () => {
    const drg = await drgOf(definitions(`
      <decision id="base" name="Base"><extensionElements><zeebe:versionTag value="v7"/></extensionElements>
        <variable name="base"/><literalExpression><text>amount * 2</text></literalExpression></decision>
      ${decisionTable({ id: 'table', inputs: ['base'], outputs: [{ name: 'level', outputValues: '"low", "high, really"' }], rules: [[['-'], ['"low"']]], requires: ['base'] })}`))

    expect(drg).toEqual({
      id: 'drg',
      name: 'Test DRG',
      decisions: [
        { id: 'base', name: 'Base', versionTag: 'v7', requiredDecisions: [], literalExpression: { expression: 'amount * 2', variableName: 'base' } },
        {
          id: 'table',
          name: 'Decision table',
          requiredDecisions: ['base'],
          table: {
            hitPolicy: 'UNIQUE',
            inputs: [{ id: 'table-input-1', label: 'Input 1', expression: 'base' }],
            outputs: [{ id: 'table-output-1', name: 'level', outputValues: ['"low"', '"high, really"'] }],
            rules: [{ id: 'table-rule-1', inputEntries: ['-'], outputEntries: ['"low"'] }],
          },
        },
      ],
    })
  })

  test('malformed XML is one problem with the parser message', async () => {
    const { drg, problems } = await parseDmn('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="a" name="a">')
    expect(drg).toBeUndefined()
    expect(problems).toHaveLength(1)
    expect(problems[0].message).toBe('Error: URI=null Line=1: Premature end of data in tag decision line 1')
  })

  test('a file without decisions is rejected', async () => {
    const { problems } = await parseDmn(definitions('<inputData id="amount" name="Amount"/>'))
    expect(problems).toEqual([{ elementId: 'drg', message: expect.stringContaining('at least one decision') }])
  })

  test('a decision without decision logic is rejected', async () => {
    const { problems } = await parseDmn(definitions('<decision id="empty" name="Empty"/>'))
    expect(problems).toEqual([{ elementId: 'empty', message: expect.stringContaining('decision table, a literal expression, a context, a list, a relation or an invocation') }])
  })

  test('every FEEL syntax error is listed, each at its element', async () => {
    const { drg, problems } = await parseDmn(definitions(`
      ${decisionTable({
        id: 'table',
        inputs: ['amount +', 'category'],
        outputs: [{ name: 'out', defaultOutputEntry: '"x" +', outputValues: '"a", >' }],
        rules: [[['[1..', '"ok"'], ['"fine"']], [['-', '"ok"'], ['1 +']]],
      })}
      <decision id="literal" name="literal"><literalExpression><text>if then</text></literalExpression></decision>`))

    expect(drg).toBeUndefined()
    expect(problems.map((problem) => problem.elementId)).toEqual([
      'table-input-1', 'table-output-1', 'table-output-1', 'table-rule-1', 'table-rule-2', 'literal',
    ])
    expect(problems[0].message).toContain("Input expression of input 'table-input-1' in decision 'table'")
    expect(problems[3].message).toContain("Input entry 1 of rule 'table-rule-1'")
    expect(problems[4].message).toContain("Output entry 1 of rule 'table-rule-2'")
    expect(problems[5].message).toContain("Literal expression of decision 'literal'")
  })

  test('an empty input expression or literal expression is rejected', async () => {
    const { problems } = await parseDmn(definitions(`
      ${decisionTable({ id: 'table', inputs: [''], outputs: ['out'], rules: [[['-'], ['1']]] })}
      <decision id="literal" name="literal"><literalExpression><text></text></literalExpression></decision>`))
    expect(problems.map((problem) => problem.elementId)).toEqual(['table-input-1', 'literal'])
  })

  test('an unknown required decision is rejected', async () => {
    const { problems } = await parseDmn(definitions(decisionTable({ id: 'table', inputs: ['x'], outputs: ['out'], rules: [], requires: ['missing'] })))
    expect(problems).toEqual([{ elementId: 'table', message: "Decision 'table' requires the unknown decision 'missing'" }])
  })

  test('a rule with the wrong number of entries is rejected', async () => {
    const { problems } = await parseDmn(definitions(decisionTable({
      id: 'table', inputs: ['x', 'y'], outputs: ['out'], rules: [[['1'], ['"a"', '"b"']]],
    })))
    expect(problems).toEqual([
      { elementId: 'table-rule-1', message: "Expected rule 'table-rule-1' of decision 'table' to have 2 input entries, but it has 1" },
      { elementId: 'table-rule-1', message: "Expected rule 'table-rule-1' of decision 'table' to have 1 output entries, but it has 2" },
    ])
  })

  test('a requirement cycle is rejected', async () => {
    const { problems } = await parseDmn(definitions(`
      ${decisionTable({ id: 'a', inputs: ['b'], outputs: ['out'], rules: [], requires: ['b'] })}
      ${decisionTable({ id: 'b', inputs: ['c'], outputs: ['out'], rules: [], requires: ['c'] })}
      ${decisionTable({ id: 'c', inputs: ['a'], outputs: ['out'], rules: [], requires: ['a'] })}
      ${decisionTable({ id: 'self', inputs: ['x'], outputs: ['out'], rules: [], requires: ['self'] })}`))
    expect(problems).toEqual([
      { elementId: 'a', message: "Decision 'a' is part of a requirement cycle: a -> b -> c -> a" },
      { elementId: 'self', message: "Decision 'self' is part of a requirement cycle: self -> self" },
    ])
  })

  test('an aggregation is allowed only with COLLECT', async () => {
    const { problems } = await parseDmn(definitions(decisionTable({ id: 'table', hitPolicy: 'FIRST', aggregation: 'SUM', inputs: ['x'], outputs: ['out'], rules: [] })))
    expect(problems).toEqual([{ elementId: 'table', message: expect.stringContaining("Aggregation 'SUM' is only allowed with hit policy COLLECT") }])
  })

  test('an unknown hit policy or aggregation is refused by the DMN schema', async () => {
    const policy = await parseDmn(definitions(decisionTable({ id: 'table', hitPolicy: 'SOME', inputs: ['x'], outputs: ['out'], rules: [] })))
    expect(policy.problems).toEqual([{ message: expect.stringContaining("attribute 'hitPolicy': [facet 'enumeration'] The value 'SOME' is not an element of the set") }])
    const aggregation = await parseDmn(definitions(decisionTable({ id: 'other', hitPolicy: 'COLLECT', aggregation: 'AVG', inputs: ['x'], outputs: ['out'], rules: [] })))
    expect(aggregation.problems).toEqual([{ message: expect.stringContaining("attribute 'aggregation': [facet 'enumeration'] The value 'AVG' is not an element of the set") }])
  })

  test('several outputs need names; duplicate ids are refused by the DMN schema', async () => {
    const unnamed = await parseDmn(definitions(decisionTable({ id: 'table', inputs: ['x'], outputs: ['a', ''], rules: [] })))
    expect(unnamed.problems).toEqual([{ elementId: 'table-output-2', message: expect.stringContaining('to have a name') }])
    const duplicate = await parseDmn(definitions(decisionTable({ id: 'table', inputs: ['x'], outputs: ['a'], rules: [] }) +
      '<decision id="table" name="table"><literalExpression><text>1</text></literalExpression></decision>'))
    expect(duplicate.problems).toEqual([{ message: expect.stringContaining("attribute 'id': 'table' is not a valid value of the atomic type 'xs:ID'") }])
  })
})

describe('evaluateDecision: decision tables', () => {
  test('UNIQUE (the default) gives the single output value with its details', async () => {
    const result = await evaluateTable({ inputs: ['score'], outputs: ['grade'], rules: [[['>= 90'], ['"A"']], [['< 90'], ['"B"']]] }, { score: 95 })
    expect(result).toEqual({
      output: 'A',
      evaluated: [{
        decisionId: 'decision',
        decisionName: 'Decision decision',
        decisionType: 'DECISION_TABLE',
        output: 'A',
        matchedRules: [{ ruleId: 'decision-rule-1', ruleIndex: 1, evaluatedOutputs: [{ outputId: 'decision-output-1', outputName: 'grade', outputValue: 'A' }] }],
        evaluatedInputs: [{ inputId: 'decision-input-1', inputName: 'Input 1', inputValue: 95 }],
      }],
    })
  })

  test('UNIQUE with several matches fails, naming the rules', async () => {
    const result = await evaluateTable({ inputs: ['score'], outputs: ['grade', 'rank'], rules: scores }, { score: 95 })
    expect(result.output).toBeNull()
    expect(result.failedDecisionId).toBe('decision')
    expect(result.failureMessage).toBe("Expected to evaluate decision 'decision', but 2 rules matched ('decision-rule-1', 'decision-rule-2') and hit policy UNIQUE allows only one")
    expect(result.evaluated).toEqual([])
  })

  test('several outputs give a context', async () => {
    const result = await evaluateTable({ inputs: ['score'], outputs: ['grade', 'rank'], rules: scores }, { score: 10 })
    expect(result.output).toEqual({ grade: 'C', rank: 3 })
  })

  test('FIRST picks the first match in rule order and reports only it', async () => {
    const result = await evaluateTable({ hitPolicy: 'FIRST', inputs: ['score'], outputs: ['grade', 'rank'], rules: scores }, { score: 95 })
    expect(result.output).toEqual({ grade: 'A', rank: 1 })
    expect(result.evaluated[0].matchedRules.map((rule) => rule.ruleIndex)).toEqual([1])
  })

  test('ANY accepts matches with equal outputs and fails on differing ones', async () => {
    const rules: TableSpec['rules'] = [[['> 10'], ['"big"']], [['> 20'], ['"big"']], [['> 30'], ['"huge"']]]
    const equal = await evaluateTable({ hitPolicy: 'ANY', inputs: ['n'], outputs: ['size'], rules }, { n: 25 })
    expect(equal.output).toBe('big')
    const differing = await evaluateTable({ hitPolicy: 'ANY', inputs: ['n'], outputs: ['size'], rules }, { n: 35 })
    expect(differing.failedDecisionId).toBe('decision')
    expect(differing.failureMessage).toContain("'decision-rule-1', 'decision-rule-2', 'decision-rule-3'")
  })

  test('RULE ORDER lists every match in rule order', async () => {
    const result = await evaluateTable({ hitPolicy: 'RULE ORDER', inputs: ['score'], outputs: ['grade', 'rank'], rules: scores }, { score: 95 })
    expect(result.output).toEqual([{ grade: 'A', rank: 1 }, { grade: 'B', rank: 2 }])
    expect(result.evaluated[0].matchedRules.map((rule) => rule.ruleId)).toEqual(['decision-rule-1', 'decision-rule-2'])
  })

  test('COLLECT lists single values; SUM, MIN, MAX and COUNT aggregate them', async () => {
    const rules: TableSpec['rules'] = [[['> 0'], ['10']], [['> 1'], ['5']], [['> 2'], ['7']], [['> 100'], ['1000']]]
    const collect = async (aggregation?: string) =>
      (await evaluateTable({ hitPolicy: 'COLLECT', aggregation, inputs: ['n'], outputs: ['points'], rules }, { n: 3 })).output
    expect(await collect()).toEqual([10, 5, 7])
    expect(await collect('SUM')).toBe(22)
    expect(await collect('MIN')).toBe(5)
    expect(await collect('MAX')).toBe(10)
    expect(await collect('COUNT')).toBe(3)
  })

  test('COLLECT SUM over a non-numeric output fails', async () => {
    const result = await evaluateTable({ hitPolicy: 'COLLECT', aggregation: 'SUM', inputs: ['n'], outputs: ['points'], rules: [[['-'], ['"ten"']]] }, { n: 1 })
    expect(result.failureMessage).toContain('needs numeric outputs')
  })

  test('PRIORITY picks the match whose output ranks first in the output values', async () => {
    const spec: TableSpec = {
      hitPolicy: 'PRIORITY',
      inputs: ['amount'],
      outputs: [{ name: 'approval', outputValues: '"reject","manual","auto"' }],
      rules: [[['> 0'], ['"auto"']], [['> 1000'], ['"manual"']], [['> 100000'], ['"reject"']]],
    }
    expect((await evaluateTable(spec, { amount: 5000 })).output).toBe('manual')
    const result = await evaluateTable(spec, { amount: 500000 })
    expect(result.output).toBe('reject')
    expect(result.evaluated[0].matchedRules.map((rule) => rule.ruleIndex)).toEqual([3])
  })

  test('OUTPUT ORDER lists every match by output value priority', async () => {
    const result = await evaluateTable({
      hitPolicy: 'OUTPUT ORDER',
      inputs: ['amount'],
      outputs: [{ name: 'approval', outputValues: '"reject","manual","auto"' }],
      rules: [[['> 0'], ['"auto"']], [['> 1000'], ['"manual"']], [['> 100000'], ['"reject"']]],
    }, { amount: 500000 })
    expect(result.output).toEqual(['reject', 'manual', 'auto'])
  })

  test.each(['UNIQUE', 'FIRST', 'ANY', 'PRIORITY', 'RULE ORDER', 'OUTPUT ORDER', 'COLLECT'])('no match gives null under %s', async (hitPolicy) => {
    const result = await evaluateTable({ hitPolicy, inputs: ['score'], outputs: ['grade', 'rank'], rules: scores }, { score: null })
    expect(result.output).toBeNull()
    expect(result.failureMessage).toBeUndefined()
    expect(result.evaluated[0].matchedRules).toEqual([])
  })

  test('no match under COLLECT COUNT gives null, not 0', async () => {
    const result = await evaluateTable({ hitPolicy: 'COLLECT', aggregation: 'COUNT', inputs: ['n'], outputs: ['points'], rules: [[['> 5'], ['1']]] }, { n: 1 })
    expect(result.output).toBeNull()
  })

  test('no match gives the default output entries when defined', async () => {
    const outputs = [{ name: 'grade', defaultOutputEntry: '"none"' }, { name: 'rank', defaultOutputEntry: 'limit + 1' }]
    const result = await evaluateTable({ inputs: ['score'], outputs, rules: [[['> 100'], ['"S"', '0']]] }, { score: 1, limit: 9 })
    expect(result.output).toEqual({ grade: 'none', rank: 10 })
    const single = await evaluateTable({ hitPolicy: 'COLLECT', inputs: ['score'], outputs: [{ name: 'grade', defaultOutputEntry: '"none"' }], rules: [[['> 100'], ['"S"']]] }, { score: 1 })
    expect(single.output).toBe('none')
  })

  test('"-" and empty input entries match anything, null unary tests do not match', async () => {
    const result = await evaluateTable({
      hitPolicy: 'RULE ORDER',
      inputs: ['a', 'b'],
      outputs: ['out'],
      rules: [[['-', ''], ['1']], [['> 1', '-'], ['2']], [['"x"', '-'], ['3']]],
    }, { a: null, b: 'anything' })
    expect(result.output).toEqual([1])
  })

  test('an empty output entry gives null', async () => {
    const result = await evaluateTable({ inputs: ['a'], outputs: ['x', 'y'], rules: [[['-'], ['', '"set"']]] }, { a: 1 })
    expect(result.output).toEqual({ x: null, y: 'set' })
  })

  test('input and output entries see the variables; outputs are JSON', async () => {
    const result = await evaluateTable({
      inputs: ['order.total', 'customer'],
      outputs: ['discount', 'at'],
      rules: [[['> threshold', '"gold", "silver"'], ['order.total * rate', 'date("2025-01-02")']]],
    }, { order: { total: 200 }, customer: 'gold', threshold: 100, rate: 0.1 })
    expect(result.output).toEqual({ discount: 20, at: '2025-01-02' })
    expect(result.evaluated[0].evaluatedInputs.map((input) => input.inputValue)).toEqual([200, 'gold'])
  })

  test('a failing input expression names the decision and the input', async () => {
    const result = await evaluateTable({ id: 'risk', inputs: ['assert(x, x > 0, "x must be positive")'], outputs: ['out'], rules: [[['-'], ['1']]] }, { x: -1 })
    expect(result.failedDecisionId).toBe('risk')
    expect(result.failureMessage).toMatch(/^Expected to evaluate decision 'risk', but .*x must be positive.*input 'Input 1'/)
  })
})

describe('evaluateDecision: literal expressions and DRGs', () => {
  test('a literal expression decision gives its value', async () => {
    const drg = await drgOf(definitions('<decision id="greeting" name="Greeting"><variable name="greeting"/><literalExpression><text>"Hello " + name</text></literalExpression></decision>'))
    expect(evaluateDecision(drg, 'greeting', { name: 'Ada' }, clock)).toEqual({
      output: 'Hello Ada',
      evaluated: [{ decisionId: 'greeting', decisionName: 'Greeting', decisionType: 'LITERAL_EXPRESSION', output: 'Hello Ada', matchedRules: [], evaluatedInputs: [] }],
    })
  })

  test('now() in a literal expression reads the engine clock', async () => {
    const drg = await drgOf(definitions('<decision id="stamp" name="stamp"><literalExpression><text>string(today())</text></literalExpression></decision>'))
    expect(evaluateDecision(drg, 'stamp', {}, clock).output).toBe('2025-03-14')
  })

  test('required decisions are evaluated first and read by id, with decisionId.outputName for contexts', async () => {
    const drg = await drgOf(definitions(`
      <decision id="total" name="Total"><literalExpression><text>sum(items)</text></literalExpression></decision>
      ${decisionTable({ id: 'tier', requires: ['total'], inputs: ['total'], outputs: ['tier', 'factor'], rules: [[['>= 100'], ['"gold"', '0.9']], [['< 100'], ['"basic"', '1']]] })}
      <decision id="price" name="Price">
        <informationRequirement id="price-tier"><requiredDecision href="#tier"/></informationRequirement>
        <informationRequirement id="price-total"><requiredDecision href="#total"/></informationRequirement>
        <literalExpression><text>total * tier.factor</text></literalExpression>
      </decision>`))

    const result = evaluateDecision(drg, 'price', { items: [60, 40, 100] }, clock)
    expect(result.output).toBe(180)
    expect(result.evaluated.map((decision) => [decision.decisionId, decision.output])).toEqual([
      ['total', 200],
      ['tier', { tier: 'gold', factor: 0.9 }],
      ['price', 180],
    ])
  })

  test('a failing required decision is the failed decision', async () => {
    const drg = await drgOf(definitions(`
      ${decisionTable({ id: 'base', inputs: ['x'], outputs: ['out'], rules: [[['-'], ['1']], [['-'], ['2']]] })}
      <decision id="top" name="top"><informationRequirement id="r"><requiredDecision href="#base"/></informationRequirement><literalExpression><text>base + 1</text></literalExpression></decision>`))
    const result = evaluateDecision(drg, 'top', { x: 1 }, clock)
    expect(result).toMatchObject({ output: null, failedDecisionId: 'base', evaluated: [] })
    expect(result.failureMessage).toMatch(/^Expected to evaluate decision 'top' \(required decision 'base'\), but 2 rules matched/)
  })

  test('an unknown decision id fails without throwing', async () => {
    const drg = await drgOf(definitions('<decision id="one" name="one"><literalExpression><text>1</text></literalExpression></decision>'))
    expect(evaluateDecision(drg, 'two', {}, clock)).toEqual({
      output: null,
      failedDecisionId: 'two',
      failureMessage: "Expected to evaluate decision 'two', but no decision found for id 'two'",
      evaluated: [],
    })
  })
})
