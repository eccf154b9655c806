/** The engine's results as gateway_protocol messages (keepCase field names, int64 as strings). */
import type { ActivatedJob, DeployedItem } from '../api'
import { GATEWAY_VERSION } from '../protocol'

export function toGrpcJob(job: ActivatedJob): Record<string, unknown> {
  return {
    key: job.key,
    type: job.type,
    processInstanceKey: job.processInstanceKey,
    bpmnProcessId: job.bpmnProcessId,
    processDefinitionVersion: job.processDefinitionVersion,
    processDefinitionKey: job.processDefinitionKey,
    elementId: job.elementId,
    elementInstanceKey: job.elementInstanceKey,
    customHeaders: JSON.stringify(job.customHeaders ?? {}),
    worker: job.worker,
    retries: job.retries,
    deadline: String(job.deadline),
    variables: JSON.stringify(job.variables ?? {}),
    tenantId: job.tenantId,
  }
}

export function toGrpcDeployment(item: DeployedItem): Record<string, unknown> {
  switch (item.kind) {
    case 'process':
      return { process: { bpmnProcessId: item.bpmnProcessId, version: item.version, processDefinitionKey: item.processDefinitionKey, resourceName: item.resourceName, tenantId: item.tenantId } }
    case 'decision':
      return { decision: { dmnDecisionId: item.decisionId, dmnDecisionName: item.name ?? '', version: item.version, decisionKey: item.decisionKey, dmnDecisionRequirementsId: item.decisionRequirementsId, decisionRequirementsKey: item.decisionRequirementsKey, tenantId: item.tenantId } }
    case 'decisionRequirements':
      return { decisionRequirements: { dmnDecisionRequirementsId: item.decisionRequirementsId, dmnDecisionRequirementsName: item.name ?? '', version: item.version, decisionRequirementsKey: item.decisionRequirementsKey, resourceName: item.resourceName, tenantId: item.tenantId } }
    case 'form':
      return { form: { formId: item.formId, version: item.version, formKey: item.formKey, resourceName: item.resourceName, tenantId: item.tenantId } }
  }
}

/** One broker, leader of the one partition, at the gateway's own address. */
export function topologyResponse(host: string, port: number): Record<string, unknown> {
  return {
    brokers: [{
      nodeId: 0,
      host,
      port,
      partitions: [{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }],
      version: GATEWAY_VERSION,
    }],
    clusterSize: 1,
    partitionsCount: 1,
    replicationFactor: 1,
    gatewayVersion: GATEWAY_VERSION,
  }
}
