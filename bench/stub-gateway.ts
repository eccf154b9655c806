/**
 * A gRPC gateway that does no work: it speaks the same proto as the engine, answers
 * CreateProcessInstance at once and hands out one job per created instance (carrying the
 * instance's variables) on StreamActivatedJobs or ActivateJobs, and accepts CompleteJob. Driving
 * it with the SDK measures the client-side ceiling that any engine's throughput sits under. Like
 * the engine's gateway, it asks clients for uncompressed requests (src/engine/gateway/gateway-thread.ts),
 * so that both are measured with the same client work.
 *
 * Run alone: `node -r tsx/cjs bench/stub-gateway.ts [--port 26501]`. Forked with an IPC channel,
 * it sends `{ type: 'ready', grpcPort }` once listening.
 */
import { parseArgs } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

interface StubJob {
  key: string
  processInstanceKey: string
  variables: string
}

/** As the engine's gateway: every answer says this server takes uncompressed requests only. */
const uncompressedRequests: grpc.ServerInterceptor = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    sendMetadata: (metadata, next) => {
      metadata.set('grpc-accept-encoding', 'identity')
      next(metadata)
    },
  })

type Writable = grpc.ServerWritableStream<{ type: string; worker: string; maxJobsToActivate?: number }, unknown>

/** Starts the stub on `port` (0 = a free port). */
export async function startStubGateway(port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const definition = protoLoader.loadSync(require.resolve('@camunda8/sdk/dist/proto/zeebe.proto'), {
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  })
  const gatewayProtocol = grpc.loadPackageDefinition(definition).gateway_protocol as grpc.GrpcObject
  const service = (gatewayProtocol.Gateway as grpc.ServiceClientConstructor).service

  let nextKey = 2n ** 51n + 1n
  const newKey = () => String(nextKey++)
  const queued: StubJob[] = []
  const streams: Writable[] = []
  let nextStream = 0
  const openJobs = new Set<string>()

  const toActivated = (job: StubJob, call: Writable) => ({
    key: job.key, type: call.request.type, processInstanceKey: job.processInstanceKey, bpmnProcessId: 'stub',
    processDefinitionVersion: 1, processDefinitionKey: '1', elementId: 'work', elementInstanceKey: job.key,
    customHeaders: '{}', worker: call.request.worker, retries: 3, deadline: String(Date.now() + 60_000),
    variables: job.variables, tenantId: '<default>',
  })

  const implementation: grpc.UntypedServiceImplementation = {
    Topology: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, {
      brokers: [{ nodeId: 0, host, port: boundPort, partitions: [{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }], version: '8.8.0' }],
      clusterSize: 1, partitionsCount: 1, replicationFactor: 1, gatewayVersion: '8.8.0',
    }),
    DeployResource: (call: grpc.ServerUnaryCall<{ resources: { name: string }[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, {
      key: newKey(),
      tenantId: '<default>',
      deployments: call.request.resources.map((r) => ({
        process: { bpmnProcessId: 'stub', version: 1, processDefinitionKey: newKey(), resourceName: r.name, tenantId: '<default>' },
      })),
    }),
    CreateProcessInstance: (call: grpc.ServerUnaryCall<{ bpmnProcessId: string; variables: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const processInstanceKey = newKey()
      const job = { key: newKey(), processInstanceKey, variables: call.request.variables || '{}' }
      openJobs.add(job.key)
      callback(null, { processDefinitionKey: '1', bpmnProcessId: call.request.bpmnProcessId, version: 1, processInstanceKey, tenantId: '<default>' })
      const live = streams.filter((s) => !s.cancelled)
      if (live.length > 0) {
        const stream = live[nextStream++ % live.length]
        stream.write(toActivated(job, stream))
      } else {
        queued.push(job)
      }
    },
    StreamActivatedJobs: (call: Writable) => {
      streams.push(call)
      const remove = () => {
        const index = streams.indexOf(call)
        if (index >= 0) streams.splice(index, 1)
      }
      call.on('cancelled', remove)
      call.on('close', remove)
    },
    ActivateJobs: (call: Writable) => {
      const jobs = queued.splice(0, call.request.maxJobsToActivate ?? 1)
      if (jobs.length > 0) call.write({ jobs: jobs.map((job) => toActivated(job, call)) })
      call.end()
    },
    CompleteJob: (call: grpc.ServerUnaryCall<{ jobKey: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!openJobs.delete(call.request.jobKey)) {
        callback({ code: grpc.status.NOT_FOUND, details: `Expected to complete job with key '${call.request.jobKey}', but no such job was found` })
        return
      }
      callback(null, {})
    },
  }

  const server = new grpc.Server({ interceptors: [uncompressedRequests] })
  server.addService(service, implementation)
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))))

  return {
    port: boundPort,
    close: () => new Promise<void>((resolve) => {
      for (const stream of streams.splice(0)) stream.end()
      server.forceShutdown()
      resolve()
    }),
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '26501' } } })
  const stub = await startStubGateway(Number(values.port))
  console.log(`stub gateway: grpc://127.0.0.1:${stub.port}`)
  process.send?.({ type: 'ready', grpcPort: stub.port })
  const stop = () => void stub.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('stub gateway:', error)
    process.exit(1)
  })
}
