/**
 * A modelled business outcome: the worker's job ends with a BPMN error that the process catches
 * (an error boundary event), not with a failure. workers/index.ts turns it into job.error().
 */
export class BpmnErrorOutcome extends Error {
  override name = 'BpmnErrorOutcome'
  constructor(
    /** the errorCode of a bpmn:error in the model */
    readonly code: string,
    message: string,
    /** variables set where the error is caught */
    readonly variables: Record<string, unknown> = {},
  ) {
    super(message)
  }
}
