import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TransientMailError, PermanentMailError, TemplateDataError } from '../../src/notify'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import { addDuration } from '../../src/app/iso-duration'
import { classifyFailure, WORKERS } from '../../workers'

test('the registry has one worker for each task type of the processes, each in workers/<task-type>.ts', async () => {
  const processes = join(__dirname, '../../processes')
  const bpmn = readdirSync(processes).filter((file) => file.endsWith('.bpmn')).map((file) => readFileSync(join(processes, file), 'utf8')).join('\n')
  const types = new Set([...bpmn.matchAll(/<zeebe:taskDefinition type="([^"]+)"/g)].map((match) => match[1]))
  expect(WORKERS.map((worker) => worker.TASK_TYPE).sort()).toEqual([...types].sort())
  for (const worker of WORKERS) expect((await import(`../../workers/${worker.TASK_TYPE}`)).TASK_TYPE).toBe(worker.TASK_TYPE)
})

describe('failure classification', () => {
  test('a transient SMTP failure retries with an exponential backoff: 10 s, 20 s, then an incident', () => {
    const error = new TransientMailError('SMTP delivery failed: connect ECONNREFUSED', undefined)
    expect(classifyFailure(error, 3, 10_000)).toMatchObject({ outcome: 'retry', retries: 2, retryBackOff: 10_000 })
    expect(classifyFailure(error, 2, 10_000)).toMatchObject({ outcome: 'retry', retries: 1, retryBackOff: 20_000 })
    expect(classifyFailure(error, 1, 10_000)).toMatchObject({ outcome: 'incident', retries: 0 })
  })

  test.each([
    ['a permanent SMTP failure', new PermanentMailError('SMTP delivery failed: 550 unknown user', 550)],
    ['bad template data', new TemplateDataError('incident-resolved', ['summary: Required'])],
    ['bad job input', new JobInputError(['variable service: unknown service'])],
  ])('%s raises an incident at once, with a message saying why', (_name, error) => {
    const failure = classifyFailure(error, 3, 10_000)
    expect(failure).toMatchObject({ outcome: 'incident', retries: 0, retryBackOff: 0 })
    expect(failure.errorMessage).toContain(error.message)
    expect(failure.errorMessage).toContain(error.name)
  })

  test('an unexpected error is retried, not swallowed', () => {
    expect(classifyFailure(new Error('SQLITE_BUSY'), 3, 1000)).toMatchObject({ outcome: 'retry', retries: 2, retryBackOff: 1000, errorMessage: 'Error: SQLITE_BUSY' })
  })
})

test('targets are added to the declaration time as ISO 8601 durations', () => {
  expect(addDuration('2025-03-14T08:00:00.000Z', 'PT4H')).toBe('2025-03-14T12:00:00.000Z')
  expect(addDuration('2025-03-14T08:00:00.000Z', 'P1DT30M')).toBe('2025-03-15T08:30:00.000Z')
  expect(addDuration('2025-01-31T00:00:00.000Z', 'P1W')).toBe('2025-02-07T00:00:00.000Z')
  expect(() => addDuration('2025-03-14T08:00:00.000Z', 'PT')).toThrow(/not an ISO 8601 duration/)
  expect(() => addDuration('2025-03-14T08:00:00.000Z', '4 hours')).toThrow(/not an ISO 8601 duration/)
})
