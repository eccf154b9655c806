// bpmn-moddle 10 ships types for its element classes only; this declares the parser entry point.
declare module 'bpmn-moddle' {
  /** One warning bpmn-moddle collected while reading: an unresolved reference or skipped content. */
  export interface ModdleWarning {
    message: string
    element?: unknown
    property?: string
    value?: unknown
  }

  /** The BPMN 2.0 meta-model, extended with the given packages (e.g. `{ zeebe: zeebeSchema }`). */
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>)
    fromXML(xml: string, typeName?: string): Promise<{ rootElement: unknown; warnings: ModdleWarning[] }>
  }
}
