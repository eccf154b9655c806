/**
 * The security watch's cycle (SEC-1). A timer start event is scheduled when its process is
 * deployed, before any variable exists, so the cycle cannot come from a variable: raccord writes
 * `securityWatch.cycle` of the configuration into the model it deploys.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { escapeHtml } from '../../notify'

/** The model whose timer start event carries the cycle. */
export const SECURITY_WATCH_FILE = 'security-watch.bpmn'

/** The cycle cannot be written into the model. */
export class SecurityWatchModelError extends Error {
  override name = 'SecurityWatchModelError'
}

/** The model with its timer start event's cycle replaced. Throws SecurityWatchModelError. */
export function withCycle(xml: string, cycle: string): string {
  const timer = /(<bpmn:timerEventDefinition id="watch-due-timer">\s*<bpmn:timeCycle[^>]*>)([^<]*)(<\/bpmn:timeCycle>)/
  if (!timer.test(xml)) throw new SecurityWatchModelError(`${SECURITY_WATCH_FILE} has no timer start 'watch-due-timer' with a timeCycle to set`)
  return xml.replace(timer, (_match, open: string, _old: string, close: string) => `${open}${escapeHtml(cycle)}${close}`)
}

/** A file of a deployment, as the SDK takes it. */
type Resource = { processFilename: string } | { decisionFilename: string } | { formFilename: string } | { name: string; process: Buffer }

/** The deployment with security-watch.bpmn given as content, its cycle set from the configuration. */
export function withSecurityWatchCycle<R extends Resource>(resources: R[], cycle: string): Array<R | { name: string; process: Buffer }> {
  return resources.map((resource) => {
    if (!('processFilename' in resource) || basename(resource.processFilename) !== SECURITY_WATCH_FILE) return resource
    return { name: `processes/${SECURITY_WATCH_FILE}`, process: Buffer.from(withCycle(readFileSync(resource.processFilename, 'utf8'), cycle)) }
  })
}
