import * as grpc from '@grpc/grpc-js'

/**
 * Every answer tells the client that this gateway takes uncompressed messages only. The SDK's
 * channel is set to gzip its requests; gRPC clients stop compressing on a channel once the server
 * says it does not accept the encoding (grpc-accept-encoding). For messages of a few hundred bytes,
 * gzip costs more than it saves: a zlib stream per request on each side. With 256 creations in
 * flight from one SDK client on two cores, 50,000 waiting instances were created at 824 to 936/s
 * with gzip and 2,356/s without (bench/PERFORMANCE.md). A request that still comes compressed is
 * read as before.
 */
export const uncompressedRequests: grpc.ServerInterceptor = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    sendMetadata: (metadata, next) => {
      metadata.set('grpc-accept-encoding', 'identity')
      next(metadata)
    },
  })
