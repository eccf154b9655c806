/**
 * Straight-through processing loops (Zeebe rejects a process whose sequence flows make a cycle
 * no element of which waits: it would run forever). Passing straight through: undefined and
 * manual tasks, FEEL script tasks and intermediate throw events; gateways (but for event-based
 * ones) pass through too, yet a cycle of gateways alone is accepted, as Zeebe accepts it. Every
 * other element waits (a job, a message, a timer, a user, a child instance). Reported for the
 * process, the loop named from its first element in model order: `a > b > a`.
 */
import type { FlowElement, ProcessModel, Problem } from '../types'

const PASSING_GATEWAYS = new Set(['exclusiveGateway', 'parallelGateway', 'inclusiveGateway'])

function passesThrough(el: FlowElement): boolean {
  if (el.type === 'task' || el.type === 'manualTask' || el.type === 'intermediateThrowEvent') return true
  if (el.type === 'scriptTask') return el.script !== undefined && el.taskDefinition === undefined
  return false
}

export function straightThroughLoops(model: ProcessModel): Problem[] {
  const inLoop = (el: FlowElement | undefined): el is FlowElement => el !== undefined && (passesThrough(el) || PASSING_GATEWAYS.has(el.type))
  const next = (el: FlowElement): FlowElement[] => el.outgoing
    .map((flowId) => model.elements.get(model.flows.get(flowId)?.targetRef ?? ''))
    .filter(inLoop)
  const reported = new Set<string>()
  const problems: Problem[] = []
  for (const start of model.elements.values()) {
    if (!passesThrough(start) || reported.has(start.id)) continue
    const path = cycleFrom(start, next)
    if (!path) continue
    for (const id of path) reported.add(id)
    problems.push({ processId: model.id, message: `Processes are not allowed to contain a straight-through processing loop: ${[...path, start.id].join(' > ')}` })
  }
  return problems
}

/** A cycle back to `start` through straight-through elements (depth first, flows in model order), or undefined. */
function cycleFrom(start: FlowElement, next: (el: FlowElement) => FlowElement[]): string[] | undefined {
  const seen = new Set<string>([start.id])
  const stack: { el: FlowElement; path: string[] }[] = [{ el: start, path: [start.id] }]
  while (stack.length > 0) {
    const { el, path } = stack.pop() as { el: FlowElement; path: string[] }
    const targets = next(el)
    for (let i = targets.length - 1; i >= 0; i--) {
      const target = targets[i]
      if (target.id === start.id) return path
    }
    for (let i = targets.length - 1; i >= 0; i--) {
      const target = targets[i]
      if (seen.has(target.id)) continue
      seen.add(target.id)
      stack.push({ el: target, path: [...path, target.id] })
    }
  }
  return undefined
}
