/** Ids and element kinds: what bpmn-moddle dropped, ids that are missing or invalid, unsupported elements. */
import type { ModdleWarning } from 'bpmn-moddle'
import type { ReadEntry } from '../bpmn-reader'
import { ELEMENT_TYPES } from '../bpmn-reader'
import { localName, str } from '../moddle'
import type { Problem } from '../types'
import type { ValidationContext } from './context'

/** xsd:NCName, which is what xsd:ID allows. */
const VALID_ID = /^[\p{L}_][\p{L}\p{N}_.\-\u00B7]*$/u

/**
 * bpmn-moddle drops elements it cannot read (duplicate or illegal ids, unknown BPMN types) and
 * reports them only as warnings: each is a problem here.
 */
export function moddleWarningProblems(warnings: ModdleWarning[]): Problem[] {
  const problems: Problem[] = []
  for (const warning of warnings) {
    const nested = /nested error: (duplicate ID|illegal ID|unknown type) <([^>]*)>/.exec(warning.message)
    if (nested === null) continue
    const [, kind, subject] = nested
    if (kind === 'duplicate ID') problems.push({ elementId: subject, message: `Duplicate element id '${subject}'` })
    else if (kind === 'illegal ID') problems.push({ elementId: subject, message: `Element id '${subject}' is not a valid id` })
    // Unknown Zeebe extensions may come from a newer Modeler; unknown BPMN elements are invalid BPMN.
    else if (subject.startsWith('bpmn:')) problems.push({ message: `Unknown BPMN element <${subject}>` })
  }
  return problems
}

export function checkProcessId(ctx: ValidationContext): void {
  if (ctx.read.model.id === '') ctx.problem(undefined, 'A process must have an id')
}

/**
 * A flow element must be of a supported kind and have a valid id. Returns false when the entry
 * was not read as an element or a sequence flow, so no other check applies to it.
 */
export function checkIdAndKind(ctx: ValidationContext, entry: ReadEntry): boolean {
  const { item } = entry
  const id = str(item, 'id')
  if (item.$type === 'bpmn:SequenceFlow') {
    if (id !== undefined && id !== '') return true
    ctx.problem(undefined, "Element of type 'sequenceFlow' must have an id")
    return false
  }
  const type = ELEMENT_TYPES[item.$type]
  if (type === undefined) {
    ctx.problem(id, `Elements of type '${localName(item.$type)}' are currently not supported`)
    return false
  }
  if (id === undefined || id === '') {
    ctx.problem(undefined, `Element of type '${type}' must have an id`)
    return false
  }
  if (!VALID_ID.test(id)) ctx.problem(id, `Element id '${id}' is not a valid id`)
  return true
}
