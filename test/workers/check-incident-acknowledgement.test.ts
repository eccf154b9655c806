/**
 * check-incident-acknowledgement without an engine: who holds the restoration task is a fake, so
 * each way an incident is acknowledged (INC-3) shows plainly. The process test runs it on the
 * engine (test/processes/incident-management.test.ts).
 */
import type { UserTaskLookup } from '../../src/engine-client/user-task-lookup'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import * as checkIncidentAcknowledgement from '../../workers/check-incident-acknowledgement'
import { workerFixture, type WorkerFixture } from './fixtures'

/** The assignee of each (instance, element), as Tasklist left it. */
class FakeTasks implements UserTaskLookup {
  readonly asked: string[] = []
  constructor(private readonly assignees: Record<string, string>) {}

  async assigneeOf(processInstanceKey: string, elementId: string): Promise<string | null> {
    this.asked.push(`${processInstanceKey}/${elementId}`)
    return this.assignees[`${processInstanceKey}/${elementId}`] ?? null
  }
}

let f: WorkerFixture
beforeEach(() => {
  f = workerFixture()
})
afterEach(() => f.close())

function check(input: checkIncidentAcknowledgement.Input, userTasks?: UserTaskLookup) {
  const ctx = f.context({ headers: {} })
  return checkIncidentAcknowledgement.handle(input, { ...ctx, userTasks })
}

test('INC-3: claimed in the console (acknowledgedAt on the instance): acknowledged by that person at that time, without asking the engine', async () => {
  const tasks = new FakeTasks({})
  await expect(check({ acknowledgedAt: '2026-12-04T08:05:00.000Z', acknowledgedBy: 'Centre de services du portail' }, tasks)).resolves.toEqual({
    acknowledgement: { acknowledged: true, by: 'Centre de services du portail', at: '2026-12-04T08:05:00.000Z' },
  })
  expect(tasks.asked).toEqual([])
})

test('INC-3: assigned in Tasklist: the restoration task of the job\'s own instance has an assignee, so the incident is acknowledged by them', async () => {
  const ctx = f.context({ headers: {} })
  const tasks = new FakeTasks({ [`${ctx.job.processInstanceKey}/restore-service`]: 'alex.dupont' })
  await expect(check({}, tasks)).resolves.toEqual({ acknowledgement: { acknowledged: true, by: 'alex.dupont', at: null } })
  expect(tasks.asked).toEqual([`${ctx.job.processInstanceKey}/restore-service`])
})

test('INC-3: nobody took it: not acknowledged', async () => {
  await expect(check({ acknowledgedAt: null }, new FakeTasks({}))).resolves.toEqual({ acknowledgement: { acknowledged: false, by: null, at: null } })
})

test('raccord started without the user-task lookup: a wiring mistake named, no retry', async () => {
  await expect(check({})).rejects.toThrow(JobInputError)
  await expect(check({})).rejects.toThrow('the user-task lookup')
})
