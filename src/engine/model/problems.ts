/** Renders validation problems the way Zeebe words a rejected deployment resource. */
import type { Problem } from './types'

/**
 * `'<resource>': - Element: <id>\n    - ERROR: <message>\n`, one Element block per element in the
 * order of its first problem; each line ends with a newline, as in Zeebe's validation report.
 * Resource-level problems (no element) come first, one per line, with no trailing newline.
 */
export function formatProblems(resourceName: string, problems: Problem[]): string {
  const resourceLevel: string[] = []
  const byElement = new Map<string, string[]>()
  for (const problem of problems) {
    if (problem.processId !== undefined) {
      const key = `\u0000${problem.processId}`
      byElement.set(key, [...(byElement.get(key) ?? []), problem.message])
      continue
    }
    if (problem.elementId === undefined) {
      resourceLevel.push(problem.message)
      continue
    }
    const messages = byElement.get(problem.elementId) ?? []
    messages.push(problem.message)
    byElement.set(problem.elementId, messages)
  }
  let elementText = ''
  for (const [elementId, messages] of byElement) {
    elementText += elementId.startsWith('\u0000') ? `- Process: ${elementId.slice(1)}\n` : `- Element: ${elementId}\n`
    elementText += messages.map((message) => `    - ERROR: ${message}\n`).join('')
  }
  return `'${resourceName}': ${[...resourceLevel, elementText].filter((part) => part !== '').join('\n')}`
}
