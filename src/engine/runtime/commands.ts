import type { BatchOperationInput, CreateInstanceInput, JobResult, EvaluateDecisionInput, DeployResourceInput, MigrateInstanceInput, ModifyInstanceInput, PublishMessageInput } from '../api'
import type { Key, VariableDocument } from '../state/records'

export interface TaskChangeset {
  dueDate?: string | null
  followUpDate?: string | null
  candidateUsers?: string[] | null
  candidateGroups?: string[] | null
  priority?: number | null
}

/** A journaled command: enough to re-apply it deterministically at its engine time. */
export type Command =
  | { c: 'deploy'; r: { n: string; b: string }[]; t: string }
  | { c: 'create'; i: CreateInstanceInput }
  | { c: 'cancel'; k: Key }
  | { c: 'modify'; i: ModifyInstanceInput }
  | { c: 'migrate'; i: MigrateInstanceInput }
  | { c: 'batch'; i: BatchOperationInput }
  | { c: 'evaluate'; i: EvaluateDecisionInput }
  | { c: 'adhoc'; k: Key; e: { elementId: string; variables?: VariableDocument }[] }
  | { c: 'batchState'; k: Key; s: 'suspend' | 'resume' | 'cancel' }
  /** the next chunk of a running batch operation */
  | { c: 'batchStep'; k: Key }
  | { c: 'delete'; k: Key }
  | { c: 'resolve'; k: Key }
  | { c: 'complete'; k: Key; v?: VariableDocument; r?: JobResult }
  | { c: 'fail'; k: Key; r: number; m: string; b: number; v?: VariableDocument }
  | { c: 'error'; k: Key; e: string; m: string; v?: VariableDocument }
  | { c: 'retries'; k: Key; r: number }
  | { c: 'jobTimeout'; k: Key; t: number }
  | { c: 'utComplete'; k: Key; v?: VariableDocument; ac?: string }
  | { c: 'utAssign'; k: Key; a: string; o: boolean; ac?: string }
  | { c: 'utUnassign'; k: Key; ac?: string }
  | { c: 'utUpdate'; k: Key; cs: TaskChangeset; ac?: string }
  | { c: 'setVars'; k: Key; v: VariableDocument; l: boolean }
  | { c: 'publish'; i: PublishMessageInput }
  | { c: 'correlate'; i: Omit<PublishMessageInput, 'timeToLive' | 'messageId'> }
  | { c: 'signal'; n: string; v?: VariableDocument; t?: string }
  | { c: 'key' }
  | { c: 'gap'; n: number }
  | { c: 'tick' }
  | { c: 'act'; k: Key; w: string; t: number }
  | { c: 'yield'; k: Key }
  /** straight-through steps left over by an earlier command (which yielded after its step budget) */
  | { c: 'cont' }

/** The commands only the engine itself journals. */
export type InternalCommand = Extract<Command, { c: 'key' | 'gap' | 'tick' | 'yield' | 'act' | 'cont' | 'batchStep' }>

/** What replaying needs: the engine's commands, plus the internal steps some commands journal. */
export interface CommandTarget {
  createProcessInstance(input: CreateInstanceInput): unknown
  cancelProcessInstance(key: Key): void
  modifyProcessInstance(input: ModifyInstanceInput): void
  migrateProcessInstance(input: MigrateInstanceInput): void
  createBatchOperation(input: BatchOperationInput): unknown
  evaluateDecision(input: EvaluateDecisionInput): unknown
  activateAdHocElements(adHocKey: Key, elements: { elementId: string; variables?: VariableDocument }[]): void
  suspendBatchOperation(key: Key): void
  resumeBatchOperation(key: Key): void
  cancelBatchOperation(key: Key): void
  deleteResource(key: Key): void
  resolveIncident(key: Key): void
  completeJob(key: Key, variables?: VariableDocument, result?: JobResult): void
  failJob(key: Key, retries: number, errorMessage: string, retryBackOff: number, variables?: VariableDocument): void
  throwError(key: Key, errorCode: string, errorMessage: string, variables?: VariableDocument): void
  updateJobRetries(key: Key, retries: number): void
  updateJobTimeout(key: Key, timeout: number): void
  completeUserTask(key: Key, variables?: VariableDocument, action?: string): void
  assignUserTask(key: Key, assignee: string, allowOverride: boolean, action?: string): void
  unassignUserTask(key: Key, action?: string): void
  updateUserTask(key: Key, changeset: TaskChangeset, action?: string): void
  setVariables(key: Key, variables: VariableDocument, local: boolean): unknown
  publishMessage(input: PublishMessageInput): unknown
  correlateMessage(input: Omit<PublishMessageInput, 'timeToLive' | 'messageId'>): unknown
  broadcastSignal(name: string, variables?: VariableDocument, tenantId?: string): unknown
  /** replay of the internal commands, inside one command run */
  replayDeploy(entry: Extract<Command, { c: 'deploy' }>, resources: DeployResourceInput[]): Promise<void>
  replayInternal(entry: InternalCommand): void
}

/** Re-apply one journaled command: the one place that maps a command back to its effect. */
export async function applyCommand(target: CommandTarget, e: Command): Promise<void> {
  switch (e.c) {
    case 'deploy': return target.replayDeploy(e, e.r.map((r) => ({ name: r.n, content: Buffer.from(r.b, 'base64') })))
    case 'create': target.createProcessInstance(e.i); return
    case 'cancel': target.cancelProcessInstance(e.k); return
    case 'modify': target.modifyProcessInstance(e.i); return
    case 'migrate': target.migrateProcessInstance(e.i); return
    case 'batch': target.createBatchOperation(e.i); return
    case 'evaluate': target.evaluateDecision(e.i); return
    case 'adhoc': target.activateAdHocElements(e.k, e.e); return
    case 'batchState':
      if (e.s === 'suspend') target.suspendBatchOperation(e.k)
      else if (e.s === 'resume') target.resumeBatchOperation(e.k)
      else target.cancelBatchOperation(e.k)
      return
    case 'delete': target.deleteResource(e.k); return
    case 'resolve': target.resolveIncident(e.k); return
    case 'complete': target.completeJob(e.k, e.v, e.r); return
    case 'fail': target.failJob(e.k, e.r, e.m, e.b, e.v); return
    case 'error': target.throwError(e.k, e.e, e.m, e.v); return
    case 'retries': target.updateJobRetries(e.k, e.r); return
    case 'jobTimeout': target.updateJobTimeout(e.k, e.t); return
    case 'utComplete': target.completeUserTask(e.k, e.v, e.ac); return
    case 'utAssign': target.assignUserTask(e.k, e.a, e.o, e.ac); return
    case 'utUnassign': target.unassignUserTask(e.k, e.ac); return
    case 'utUpdate': target.updateUserTask(e.k, e.cs, e.ac); return
    case 'setVars': target.setVariables(e.k, e.v, e.l); return
    case 'publish': target.publishMessage(e.i); return
    case 'correlate': target.correlateMessage(e.i); return
    case 'signal': target.broadcastSignal(e.n, e.v, e.t); return
    case 'key':
    case 'gap':
    case 'tick':
    case 'yield':
    case 'act':
    case 'cont':
    case 'batchStep':
      target.replayInternal(e)
  }
}
