/** Starting and stopping the application's HTTP server, for `raccord start` and the tests alike. */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on `port` (0 picks a free one) and answers the bound port; a port in use rejects. */
export function listen(server: http.Server, port: number, host: string): Promise<{ server: http.Server; port: number }> {
  return new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(port, host, () => {
      server.off('error', rejectListen)
      resolveListen({ server, port: (server.address() as AddressInfo).port })
    })
  })
}

/** Stops accepting, drops the idle keep-alive connections and resolves once the server is closed. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolveClose, rejectClose) => {
    server.close((error) => (error ? rejectClose(error) : resolveClose()))
    server.closeAllConnections()
  })
}
