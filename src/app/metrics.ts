/** What /metrics shows (prom-client): HTTP requests, jobs handled, mails sent, and Node's own figures. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  httpDuration: Histogram<'method' | 'route'>
  jobsHandled: Counter<'type' | 'outcome'>
  mailsSent: Counter<'template'>
}

/** A registry of its own, so two apps in one process (tests) do not share counters. */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    httpRequests: new Counter({
      name: 'raccord_http_requests_total',
      help: 'HTTP requests answered by the API, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'raccord_http_request_duration_seconds',
      help: 'Time to answer an API request',
      labelNames: ['method', 'route'],
      registers: [registry],
    }),
    jobsHandled: new Counter({
      name: 'raccord_jobs_handled_total',
      help: 'Jobs handled by the workers, by task type and outcome (completed, retry, incident)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    mailsSent: new Counter({
      name: 'raccord_mails_sent_total',
      help: 'Mails accepted by the SMTP server (a redelivered job that sends nothing is not counted)',
      labelNames: ['template'],
      registers: [registry],
    }),
  }
}
