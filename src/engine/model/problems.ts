/** Renders validation problems the way Zeebe words a rejected deployment resource. */
import type { Problem } from './types'

/**
 * `'<resource>': - Element: <id>\n    - ERROR: <message>\n`, one Element block per element in the
 * order of its first problem. Resource-level problems (no element) come first, one line each.
 */
export function formatProblems(resourceName: string, problems: Problem[]): string {
  const resourceLevel: string[] = []
  const byElement = new Map<string, string[]>()
  for (const problem of problems) {
    if (problem.elementId === undefined) {
      resourceLevel.push(problem.message)
      continue
    }
    const messages = byElement.get(problem.elementId) ?? []
    messages.push(problem.message)
    byElement.set(problem.elementId, messages)
  }
  let text = resourceLevel.map((message) => `${message}\n`).join('')
  for (const [elementId, messages] of byElement) {
    text += `- Element: ${elementId}\n`
    text += messages.map((message) => `    - ERROR: ${message}\n`).join('')
  }
  return `'${resourceName}': ${text}`
}
