/**
 * Deeply nested resources at deployment (issue 14): a BPMN of 60,000 nested subprocesses used to
 * answer "Maximum call stack size exceeded" after blocking the engine for seconds. A resource
 * nesting deeper than MAX_XML_DEPTH is now refused up front, with INVALID_ARGUMENT naming the
 * problem, and the engine keeps serving. Zeebe documents no nesting limit; the limit and why it
 * is generous are explained at MAX_XML_DEPTH.
 */
import { MAX_FEEL_NESTING, feelSyntaxError, unaryTestSyntaxError } from '../../src/engine/feel'
import { parseBpmn } from '../../src/engine/model/bpmn'
import { parseDmn } from '../../src/engine/model/dmn'
import { MAX_XML_DEPTH, xmlDepth } from '../../src/engine/model/xml-depth'
import { GrpcStatus, engineTestKit, eventually, grpcFailure } from '../support/engine-test-kit'

const { client, startInstance, instanceState } = engineTestKit({ worker: 'deep-input-test' })

const BPMN_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs">'

/**
 * A process holding `levels` subprocesses, each nested in the one before, each with a start event
 * unless `bare` (which keeps 60,000 levels under gRPC's 4 MB message limit).
 */
function nestedSubprocesses(processId: string, levels: number, bare = false): string {
  const open: string[] = []
  const close: string[] = []
  for (let level = 1; level <= levels; level++) {
    open.push(bare ? `<bpmn:subProcess id="s${level}">` : `<bpmn:subProcess id="sub-${level}"><bpmn:startEvent id="start-${level}" />`)
    close.push('</bpmn:subProcess>')
  }
  return `${BPMN_HEADER}<bpmn:process id="${processId}" isExecutable="true"><bpmn:startEvent id="start" />`
    + `${open.join('')}${close.join('')}</bpmn:process></bpmn:definitions>`
}

/** A DMN file whose one decision sits under `levels` nested extension elements. */
function nestedDmn(levels: number): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
    + ' id="deep-drg" name="Deep" namespace="http://camunda.org/schema/1.0/dmn">'
    + `<decision id="deep-decision" name="deep-decision"><extensionElements>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</extensionElements>`
    + '<literalExpression><text>1</text></literalExpression></decision></definitions>'
}

const SIMPLE = `${BPMN_HEADER}<bpmn:process id="di-simple" isExecutable="true"><bpmn:startEvent id="start" />`
  + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /><bpmn:endEvent id="end" /></bpmn:process></bpmn:definitions>'

describe('deeply nested resources are refused at deployment', () => {
  test('60,000 nested subprocesses: INVALID_ARGUMENT with the reason, then a normal model still deploys and runs', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResource({ name: 'di-deep.bpmn', process: Buffer.from(nestedSubprocesses('di-deep', 60_000, true)) }))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain("'di-deep.bpmn': The document nests elements more than 100 levels deep, which is not supported")
    expect(failure.details).not.toContain('call stack')
    await client.zeebe.deployResource({ name: 'di-simple.bpmn', process: Buffer.from(SIMPLE) })
    const key = await startInstance('di-simple')
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
  })

  test('a DMN nested deeper than the limit is refused the same way', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResource({ name: 'di-deep.dmn', process: Buffer.from(nestedDmn(5_000)) }))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain("'di-deep.dmn': The document nests elements more than 100 levels deep")
  })

  test('a model just within the limit is read without problems', async () => {
    // given the definitions and the process take 2 levels, the innermost start event one more
    const xml = nestedSubprocesses('di-limit', MAX_XML_DEPTH - 3)
    expect(xmlDepth(xml)).toBe(MAX_XML_DEPTH)
    // when
    const { processes, problems } = await parseBpmn(xml)
    // then
    expect(problems).toEqual([])
    expect(processes[0].elements.size).toBe(2 * (MAX_XML_DEPTH - 3) + 1)
    expect((await parseBpmn(nestedSubprocesses('di-over', MAX_XML_DEPTH - 2))).problems)
      .toEqual([{ message: expect.stringContaining('more than 100 levels deep') }])
  })
})

describe('deeply nested FEEL', () => {
  /** A process whose script task computes `expression`. */
  const scripted = (expression: string): string => `${BPMN_HEADER.replace('id="defs">', 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs">')}`
    + '<bpmn:process id="di-feel" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />'
    + `<bpmn:scriptTask id="compute"><bpmn:extensionElements><zeebe:script expression="=${expression}" resultVariable="r" /></bpmn:extensionElements></bpmn:scriptTask>`
    + '<bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end" /><bpmn:endEvent id="end" /></bpmn:process></bpmn:definitions>'

  test('an expression nesting 10,000 lists is refused at deployment without parsing it, and the engine keeps serving', async () => {
    // when
    const failure = await grpcFailure(client.zeebe.deployResource({ name: 'di-feel.bpmn', process: Buffer.from(scripted(`${'['.repeat(10_000)}1${']'.repeat(10_000)}`)) }))
    // then
    expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(failure.details).toContain('- Element: compute')
    expect(failure.details).toContain(`brackets nested more than ${MAX_FEEL_NESTING} levels deep`)
    await client.zeebe.deployResource({ name: 'di-feel.bpmn', process: Buffer.from(scripted('[[1, 2], {a: (3)}]')) })
    const result = await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'di-feel', variables: {} })
    expect(result.variables.r).toEqual([[1, 2], { a: 3 }])
  })

  test('the limit counts brackets outside strings and quoted names only', () => {
    // when / then
    const nested = (levels: number) => `${'('.repeat(levels)}1${')'.repeat(levels)}`
    expect(feelSyntaxError(nested(MAX_FEEL_NESTING))).toBeUndefined()
    expect(feelSyntaxError(nested(MAX_FEEL_NESTING + 1))).toContain('brackets nested more than')
    expect(unaryTestSyntaxError(`[${nested(MAX_FEEL_NESTING)}..5]`)).toContain('brackets nested more than')
    expect(feelSyntaxError(`"${'['.repeat(500)}" + "\\"${'('.repeat(500)}"`)).toBeUndefined()
  })
})

describe('xmlDepth', () => {
  test('counts elements only, whatever the markup around them', () => {
    // when / then
    expect(xmlDepth('<?xml version="1.0"?><!DOCTYPE a><a><!-- <b><c> --><b x="1 > 0" y=\'<\'><c/></b><![CDATA[<d><e>]]></a>')).toBe(3)
    expect(xmlDepth('<a><b></b><b><c></c></b></a>')).toBe(3)
    expect(xmlDepth('no markup')).toBe(0)
    expect(xmlDepth('<a><b><c')).toBe(2)
  })

  test('stops early once the document is known to be too deep', () => {
    // when / then
    expect(xmlDepth('<a>'.repeat(1_000_000), 10)).toBe(11)
  })
})

describe('decision requirements', () => {
  test('a chain of 20,000 required decisions is checked without recursion, and a cycle at its end is found', async () => {
    // given d1 requires d2 ... requires d20000, which requires d19999 again
    const count = 20_000
    const decisions: string[] = []
    for (let i = 1; i <= count; i++) {
      const required = i < count ? i + 1 : count - 1
      decisions.push(`<decision id="d${i}" name="d${i}"><informationRequirement id="r${i}"><requiredDecision href="#d${required}"/></informationRequirement>`
        + `<literalExpression><text>${i}</text></literalExpression></decision>`)
    }
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
      + ` id="chain" name="Chain" namespace="http://camunda.org/schema/1.0/dmn">${decisions.join('')}</definitions>`
    // when
    const { problems } = await parseDmn(xml)
    // then
    expect(problems).toEqual([{ elementId: 'd19999', message: "Decision 'd19999' is part of a requirement cycle: d19999 -> d20000 -> d19999" }])
  }, 120_000)
})
