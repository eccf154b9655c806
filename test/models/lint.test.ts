/**
 * Every model under processes/ opens laid out in Camunda Modeler, lints clean for Camunda 8.8,
 * carries the id its file name promises, and deploys in one call to the embedded engine.
 */
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { BpmnModdle } from 'bpmn-moddle'
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json'
import { createTestClient, startTestEngine, type TestClient, type TestEngine } from '../support/engine-harness'
import type { ModelLintReport } from './bpmnlint-report'

const ROOT = path.join(__dirname, '../..')
const PROCESSES = path.join(ROOT, 'processes')

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(extension))
    .sort()
    .map((file) => path.join(dir, file))
}

const bpmnFiles = filesUnder(PROCESSES, '.bpmn')
const dmnFiles = filesUnder(PROCESSES, '.dmn')
const formFiles = filesUnder(PROCESSES, '.form')

const relative = (file: string) => path.relative(ROOT, file)
const idOf = (file: string) => path.basename(file, path.extname(file))
const read = (file: string) => readFileSync(file, 'utf8')

/** The slice of a moddle element these checks read. */
interface Element {
  $type: string
  id?: string
  bpmnElement?: Element
  dmnElementRef?: Element
  flowElements?: Element[]
  rootElements?: Element[]
  diagrams?: { plane?: { planeElement?: Element[] } }[]
  drgElement?: Element[]
  dmnDI?: { diagrams?: { diagramElements?: Element[] }[] }
}

async function parseBpmn(xml: string): Promise<{ definitions: Element; warnings: string[] }> {
  const moddle = new BpmnModdle({ zeebe: zeebeSchema })
  const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions')
  return { definitions: rootElement as Element, warnings: warnings.map((warning) => warning.message) }
}

interface DmnModdle {
  fromXML(xml: string): Promise<{ rootElement: Element; warnings: { message: string }[] }>
}

async function parseDmn(xml: string): Promise<{ definitions: Element; warnings: string[] }> {
  // dmn-moddle ships no declarations; a computed specifier keeps tsc from looking for them.
  const specifier = 'dmn-moddle'
  const { DmnModdle } = (await import(specifier)) as { DmnModdle: () => DmnModdle }
  const { rootElement, warnings } = await DmnModdle().fromXML(xml)
  return { definitions: rootElement, warnings: warnings.map((warning) => warning.message) }
}

/**
 * Lints every BPMN file in one child process (see bpmnlint-report.ts for why not in jest), each
 * file with a fresh Linter and the root .bpmnlintrc.
 */
async function lintAll(files: string[]): Promise<Record<string, ModelLintReport[]>> {
  const { stdout } = await promisify(execFile)(process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'bpmnlint-report.ts'), ...files], { cwd: ROOT })
  return JSON.parse(stdout) as Record<string, ModelLintReport[]>
}

const format = (report: ModelLintReport) => `${report.category} ${report.rule} ${report.id || '(no id)'}: ${report.message}`

/** Flow nodes and sequence flows of every process, recursing into sub-processes. */
function flowElementsOf(container: Element): Element[] {
  return (container.flowElements ?? []).flatMap((element) => [element, ...flowElementsOf(element)])
}

const isSequenceFlow = (element: Element) => element.$type === 'bpmn:SequenceFlow'
// A data object is drawn through its references, never itself.
const needsShape = (element: Element) => !isSequenceFlow(element) && element.$type !== 'bpmn:DataObject'

test('the processes folder holds the incident management models', () => {
  expect(bpmnFiles.map(relative)).toContain('processes/incident-management.bpmn')
  expect(dmnFiles.map(relative)).toContain('processes/incident-priority.dmn')
  expect(formFiles.map(relative)).toEqual(expect.arrayContaining(['processes/forms/restore-service.form', 'processes/forms/close-incident.form']))
})

let lintReports: Record<string, ModelLintReport[]> = {}

beforeAll(async () => {
  if (bpmnFiles.length > 0) lintReports = await lintAll(bpmnFiles)
})

describe.each(bpmnFiles.map((file) => [relative(file), file]))('%s', (_name, file) => {
  test('parses without warnings and its process id is its file name', async () => {
    const { definitions, warnings } = await parseBpmn(read(file))
    expect(warnings).toEqual([])
    const processIds = (definitions.rootElements ?? []).filter((element) => element.$type === 'bpmn:Process').map((element) => element.id)
    expect(processIds).toContain(idOf(file))
  })

  test('lints clean under bpmnlint:recommended and camunda-cloud-8-8', () => {
    expect(lintReports[file]?.map(format)).toEqual([])
  })

  test('has a shape for every flow node and an edge for every sequence flow', async () => {
    const { definitions } = await parseBpmn(read(file))
    const drawn = new Set((definitions.diagrams ?? [])
      .flatMap((diagram) => diagram.plane?.planeElement ?? [])
      .map((di) => `${di.$type}:${di.bpmnElement?.id}`))
    const missing = (definitions.rootElements ?? [])
      .filter((element) => element.$type === 'bpmn:Process')
      .flatMap(flowElementsOf)
      .flatMap((element) => {
        const expected = isSequenceFlow(element) ? 'bpmndi:BPMNEdge' : needsShape(element) ? 'bpmndi:BPMNShape' : undefined
        return expected === undefined || drawn.has(`${expected}:${element.id}`) ? [] : [`${expected} for ${element.id}`]
      })
    expect(missing).toEqual([])
  })
})

describe.each(dmnFiles.map((file) => [relative(file), file]))('%s', (_name, file) => {
  test('parses without warnings, holds a decision named like the file, and every decision is drawn', async () => {
    const { definitions, warnings } = await parseDmn(read(file))
    expect(warnings).toEqual([])
    const decisions = (definitions.drgElement ?? []).filter((element) => element.$type === 'dmn:Decision')
    expect(decisions.map((decision) => decision.id)).toContain(idOf(file))
    const drawn = new Set((definitions.dmnDI?.diagrams ?? [])
      .flatMap((diagram) => diagram.diagramElements ?? [])
      .map((shape) => shape.dmnElementRef?.id))
    expect(decisions.filter((decision) => !drawn.has(decision.id)).map((decision) => decision.id)).toEqual([])
  })
})

describe.each(formFiles.map((file) => [relative(file), file]))('%s', (_name, file) => {
  test('parses, and its id is its file name', () => {
    const form = JSON.parse(read(file)) as { id?: unknown; components?: unknown }
    expect(form.id).toBe(idOf(file))
    expect(Array.isArray(form.components)).toBe(true)
  })
})

describe('deployment', () => {
  let engine: TestEngine
  let client: TestClient

  beforeAll(async () => {
    engine = await startTestEngine()
    client = createTestClient(engine)
  })

  afterAll(async () => {
    await client.close()
    await engine.close()
  })

  test('the embedded engine accepts all of processes/ in one deployment', async () => {
    const response = await client.zeebe.deployResources([
      ...bpmnFiles.map((file) => ({ name: path.basename(file), process: readFileSync(file) })),
      ...dmnFiles.map((file) => ({ name: path.basename(file), decision: readFileSync(file) })),
      ...formFiles.map((file) => ({ name: path.basename(file), form: readFileSync(file) })),
    ])
    const deployed = (response.deployments as { process?: { bpmnProcessId: string }; decision?: { dmnDecisionId: string }; form?: { formId: string } }[])
      .flatMap((deployment) => [deployment.process?.bpmnProcessId, deployment.decision?.dmnDecisionId, deployment.form?.formId])
      .filter((id) => id !== undefined)
    expect(deployed).toEqual(expect.arrayContaining([...bpmnFiles, ...dmnFiles, ...formFiles].map(idOf)))
  })
})
