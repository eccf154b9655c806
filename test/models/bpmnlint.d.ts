// bpmnlint 11 ships its types in lib/types.d.ts but no declaration for its entry points.
declare module 'bpmnlint' {
  import type { Config, Resolver } from 'bpmnlint/lib/types'

  /** One finding of a rule; `category` is the configured severity. */
  export interface LintReport {
    id?: string
    message: string
    category: 'error' | 'warn' | 'info' | 'rule-error'
  }

  /** Lints a bpmn-moddle definitions tree. Rules keep state: use one Linter per file. */
  export class Linter {
    constructor(options: { config: Config; resolver: Resolver })
    lint(definitions: unknown): Promise<Record<string, LintReport[]>>
  }
}

declare module 'bpmnlint/lib/resolver/node-resolver' {
  import type { Resolver } from 'bpmnlint/lib/types'

  /** Resolves rules and configs with the given `require`, so plugins resolve from this project. */
  class NodeResolver implements Resolver {
    constructor(options?: { require?: NodeRequire })
    resolveRule: Resolver['resolveRule']
    resolveConfig: Resolver['resolveConfig']
  }
  export = NodeResolver
}
