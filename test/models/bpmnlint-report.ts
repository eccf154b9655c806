/**
 * Lints the BPMN files named on the command line with the root .bpmnlintrc and prints the reports
 * as JSON: { "<file>": [{ rule, id, message, category }] }.
 *
 * It runs in its own Node process because camunda-compat's rules load ES-only helpers, which plain
 * Node requires but jest's module loader cannot.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { BpmnModdle } from 'bpmn-moddle'
import { Linter } from 'bpmnlint'
import NodeResolver from 'bpmnlint/lib/resolver/node-resolver'
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json'

/** One finding, flattened for a readable test failure. */
export interface ModelLintReport {
  rule: string
  id: string
  message: string
  category: string
}

async function lintFile(file: string, config: { extends: string[] }): Promise<ModelLintReport[]> {
  const { rootElement } = await new BpmnModdle({ zeebe: zeebeSchema }).fromXML(readFileSync(file, 'utf8'), 'bpmn:Definitions')
  // Rules keep state between runs and would report false duplicates across files: one linter per file.
  const linter = new Linter({ config, resolver: new NodeResolver({ require }) })
  const reports = await linter.lint(rootElement)
  return Object.entries(reports).flatMap(([rule, found]) =>
    found.map((report) => ({ rule, id: report.id ?? '', message: report.message, category: report.category })))
}

async function main(files: string[]): Promise<void> {
  const config = JSON.parse(readFileSync(path.join(__dirname, '../../.bpmnlintrc'), 'utf8')) as { extends: string[] }
  const result: Record<string, ModelLintReport[]> = {}
  for (const file of files) result[file] = await lintFile(file, config)
  process.stdout.write(JSON.stringify(result))
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
