/**
 * What the two adapters in front of the engine (the gRPC gateway and the REST /v2 API) agree on:
 * the version they answer as and the bounds of the input they accept, with one wording, so a
 * request refused over one protocol is refused for the same reason over the other.
 */

/** The Camunda version both adapters answer as (gRPC Topology and GET /v2/topology). */
export const GATEWAY_VERSION = '8.8.0'
