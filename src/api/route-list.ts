/**
 * Every route an express app answers, mounted routers included, as `METHOD /path`: the scope
 * tests check that each one is proven with an unrelated party's credential and a wrong role, so a
 * route added without that proof fails them.
 */
import type express from 'express'

/** What router 2 (express 5) keeps of a layer: a route, or a mounted router with its own stack. */
interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> }
  handle?: { stack?: Layer[] }
  rawPath?: string | string[]
}

export function listRoutes(app: express.Express): string[] {
  const root = (app as unknown as { router: { stack: Layer[] } }).router
  return [...new Set(walk(root.stack, ''))].sort()
}

function walk(stack: readonly Layer[], prefix: string): string[] {
  return stack.flatMap((layer) => {
    if (layer.route !== undefined) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]
      const methods = Object.keys(layer.route.methods).filter((method) => layer.route?.methods[method] === true && method !== '_all')
      return paths.flatMap((path) => methods.map((method) => `${method.toUpperCase()} ${join(prefix, path)}`))
    }
    const nested = layer.handle?.stack
    if (nested === undefined) return []
    const mounts = layer.rawPath === undefined ? ['/'] : Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath]
    return mounts.flatMap((mount) => walk(nested, join(prefix, mount)))
  })
}

function join(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/')
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined
}
