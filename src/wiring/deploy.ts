/**
 * `raccord deploy`: every BPMN, DMN and form file of processes/ in one deployment, to whatever
 * engine the SDK's environment names (a Camunda 8.8 cluster, SaaS, or the embedded engine on the
 * SDK's default addresses). One deployment, so the engine accepts all of it or none of it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Camunda8 } from '@camunda8/sdk'
import type { Deployment } from '@camunda8/sdk/dist/zeebe/lib/interfaces-grpc-1.0'
import { PACKAGE_ROOT } from '../package-root'

/** processes/ of this package: BPMN, DMN and forms, deployed together. */
export const PROCESSES_DIR = join(PACKAGE_ROOT, 'processes')

/** One file of a deployment, as the SDK takes it. */
type Resource = { processFilename: string } | { decisionFilename: string } | { formFilename: string }

/** BPMN, DMN and form files under `dir`, as one SDK deployment. */
export function processResources(dir: string): Resource[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
  return files.flatMap((file): Resource[] => {
    const path = join(dir, file)
    if (file.endsWith('.bpmn')) return [{ processFilename: path }]
    if (file.endsWith('.dmn')) return [{ decisionFilename: path }]
    if (file.endsWith('.form')) return [{ formFilename: path }]
    return []
  })
}

/** One deployed resource, as the engine answered it. */
export interface DeployedResource {
  kind: 'process' | 'decision' | 'decision-requirements' | 'form'
  /** the id inside the file: process id, decision id, form id */
  id: string
  key: string
  version: number
  /** the file it came from (the engine does not say it for a decision: see its requirements) */
  resourceName?: string
}

/** The result of one deployment. */
export interface DeploymentResult {
  deploymentKey: string
  tenantId: string
  resources: DeployedResource[]
}

/** A deployment the engine refused, or a directory with nothing to deploy. */
export class DeployError extends Error {
  /** the engine's own text, when the engine answered */
  readonly engineMessage?: string

  constructor(message: string, engineMessage?: string) {
    super(message)
    this.name = 'DeployError'
    this.engineMessage = engineMessage
  }
}

/** Where the SDK's environment points, for printing: gRPC and REST addresses and the auth strategy. */
export interface ClusterTarget {
  grpcAddress: string
  restAddress: string
  authStrategy: string
}

/** True when the SDK's environment names a cluster, so raccord must not start its own engine. */
export function namesCluster(env: NodeJS.ProcessEnv): boolean {
  return [env.ZEEBE_GRPC_ADDRESS, env.ZEEBE_REST_ADDRESS, env.ZEEBE_ADDRESS].some((value) => value !== undefined && value !== '')
}

/** The addresses the SDK will use under `env`, its defaults included. */
export function clusterTarget(env: NodeJS.ProcessEnv): ClusterTarget {
  return {
    grpcAddress: env.ZEEBE_GRPC_ADDRESS || env.ZEEBE_ADDRESS || 'grpc://localhost:26500 (SDK default)',
    restAddress: env.ZEEBE_REST_ADDRESS || 'http://localhost:8080 (SDK default)',
    authStrategy: env.CAMUNDA_AUTH_STRATEGY || 'NONE',
  }
}

function describe(deployment: Deployment): DeployedResource {
  if ('process' in deployment) {
    const { bpmnProcessId, processDefinitionKey, version, resourceName } = deployment.process
    return { kind: 'process', id: bpmnProcessId, key: processDefinitionKey, version, resourceName }
  }
  if ('decision' in deployment) {
    const { dmnDecisionId, decisionKey, version } = deployment.decision
    return { kind: 'decision', id: dmnDecisionId, key: decisionKey, version }
  }
  if ('decisionRequirements' in deployment) {
    const { dmnDecisionRequirementsId, decisionRequirementsKey, version, resourceName } = deployment.decisionRequirements
    return { kind: 'decision-requirements', id: dmnDecisionRequirementsId, key: decisionRequirementsKey, version, resourceName }
  }
  const { formId, formKey, version, resourceName } = deployment.form
  return { kind: 'form', id: formId, key: formKey, version, resourceName }
}

/** gRPC status of a deployment the engine rejected (as opposed to an unreachable engine, a refused token...). */
const INVALID_ARGUMENT = 3

/** The engine's message in a gRPC error: `details` is what the gateway said, without the status prefix. */
function engineText(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { details, message } = error as { details?: unknown; message?: unknown }
  if (typeof details === 'string' && details !== '') return details
  return typeof message === 'string' ? message : undefined
}

/** Deploys every .bpmn, .dmn and .form under `dir` in one deployment. */
export async function deployProcesses(camunda: Camunda8, dir: string): Promise<DeploymentResult> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DeployError(`${dir} is not a directory`)
  const resources = processResources(dir)
  if (resources.length === 0) throw new DeployError(`${dir} holds no .bpmn, .dmn or .form file`)
  let response
  try {
    response = await camunda.getZeebeGrpcApiClient().deployResources(resources)
  } catch (error) {
    const text = engineText(error)
    const refused = (error as { code?: unknown } | null)?.code === INVALID_ARGUMENT
    const what = refused ? `the engine refused the deployment of ${dir}` : `the deployment of ${dir} failed`
    throw new DeployError(`${what}${text === undefined ? '' : `:\n${text}`}`, text)
  }
  return {
    deploymentKey: response.key,
    tenantId: response.tenantId,
    resources: (response.deployments as Deployment[]).map(describe),
  }
}

/** The lines `raccord deploy` prints: one per resource, with its id, key and version. */
export function formatDeployment(result: DeploymentResult, dir: string): string[] {
  const rows = result.resources.map((resource) => [
    resource.kind,
    resource.id,
    `key ${resource.key}`,
    `version ${resource.version}`,
    resource.resourceName === undefined ? '' : relative(dir, resource.resourceName) || resource.resourceName,
  ])
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)))
  return [
    `deployment ${result.deploymentKey} (tenant ${result.tenantId}): ${result.resources.length} resources`,
    ...rows.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()}`),
  ]
}
