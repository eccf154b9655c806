/**
 * Parses a BPMN file with bpmn-moddle and the Zeebe extension schema, and turns every executable
 * process into the plain ProcessModel the runtime interprets: bpmn-reader.ts reads the element
 * tree, validation/ lists every problem (Zeebe 8.8's rules and wording).
 */
import { BpmnModdle, type ModdleWarning } from 'bpmn-moddle'
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json'
import { readProcess, unresolvedReferences } from './bpmn-reader'
import { elements, isElement, str, type ModdleElement } from './moddle'
import type { ProcessModel, Problem } from './types'
import { moddleWarningProblems, validateProcess } from './validation'
import { straightThroughLoops } from './validation/loops'
import { xmlDepthProblem } from './xml-depth'
import { schemaProblem } from './xsd'

const moddle = new BpmnModdle({ zeebe: zeebeSchema })

/** Parses and validates one BPMN resource. Only `isExecutable="true"` processes are returned. */
export async function parseBpmn(xml: string): Promise<{ processes: ProcessModel[]; problems: Problem[] }> {
  const tooDeep = xmlDepthProblem(xml)
  if (tooDeep !== undefined) return { processes: [], problems: [tooDeep] }
  const invalid = await schemaProblem(xml)
  if (invalid !== undefined) return { processes: [], problems: [invalid] }
  let definitions: ModdleElement
  let warnings: ModdleWarning[]
  try {
    const result = await moddle.fromXML(xml)
    if (!isElement(result.rootElement)) throw new Error('failed to parse document as <bpmn:Definitions>')
    definitions = result.rootElement
    warnings = result.warnings
  } catch (err) {
    return { processes: [], problems: [{ message: err instanceof Error ? err.message : String(err) }] }
  }

  const problems: Problem[] = moddleWarningProblems(warnings)
  const unresolved = unresolvedReferences(warnings)
  const executable = elements(definitions, 'rootElements')
    .filter((root) => root.$type === 'bpmn:Process' && root.isExecutable === true)
  if (executable.length === 0) {
    problems.push({ elementId: str(definitions, 'id'), message: 'Must contain at least one executable process' })
  }
  const processes = executable.map((process) => {
    const read = readProcess(process, unresolved)
    validateProcess(read, problems)
    return read.model
  })
  // The engine checks the loops of models the validation accepted.
  if (problems.length === 0) for (const process of processes) problems.push(...straightThroughLoops(process))
  return { processes, problems }
}
