/** What every checker receives: the process as read, and the list its problems go to. */
import type { ReadProcess } from '../bpmn-reader'
import type { ModdleElement } from '../moddle'
import type { FlowElement, Problem } from '../types'

export class ValidationContext {
  constructor(
    readonly read: ReadProcess,
    private readonly problems: Problem[],
  ) {}

  problem(elementId: string | undefined, message: string): void {
    this.problems.push({ elementId, message })
  }

  element(id: string): FlowElement | undefined {
    return this.read.model.elements.get(id)
  }

  unresolvedRef(element: ModdleElement, property: string): string | undefined {
    return this.read.unresolvedRef(element, property)
  }
}
