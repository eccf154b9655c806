/**
 * Timers that could never fire sensibly (issue 14): a cycle whose interval does not advance time
 * would fire again in the same instant without end and freeze the engine. Static ones are refused
 * at deployment, ones computed at run time raise an incident, and the engine keeps serving.
 * Durations keep Zeebe 8.8's meaning: Interval.parse (zeebe/bpmn-model .../util/time/Interval.java)
 * accepts "PT0S" and negative durations, and Interval.toEpochMilli puts them at or before now, so
 * they fire at once.
 */
import { parseBpmn } from '../../src/engine/model/bpmn'
import { GrpcStatus, HOUR, engineTestKit, eventually, grpcFailure } from '../support/engine-test-kit'

const {
  client, startInstance, increaseTime, instanceState, elementStates, activeIncident, jobFor,
} = engineTestKit({ worker: 'timer-guards-test', pinClock: true })

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
  + ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">'

const timer = (kind: string, value: string): string =>
  `<bpmn:timerEventDefinition><bpmn:${kind} xsi:type="bpmn:tFormalExpression">${value}</bpmn:${kind}></bpmn:timerEventDefinition>`

/** A process started by a timer start event `tick` with the given cycle. */
const timerStart = (processId: string, cycle: string): string => `${HEADER}<bpmn:process id="${processId}" isExecutable="true">`
  + `<bpmn:startEvent id="tick">${timer('timeCycle', cycle)}</bpmn:startEvent>`
  + '<bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="end" /><bpmn:endEvent id="end" />'
  + '</bpmn:process></bpmn:definitions>'

/**
 * A service task `work` with a non-interrupting boundary timer `remind` whose cycle is the
 * variable `cycle`; the reminder path ends at once.
 */
const BOUNDARY_CYCLE = `${HEADER}<bpmn:process id="tg-boundary-cycle" isExecutable="true">`
  + '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
  + '<bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="tg-work" /></bpmn:extensionElements></bpmn:serviceTask>'
  + `<bpmn:boundaryEvent id="remind" cancelActivity="false" attachedToRef="work">${timer('timeCycle', '=cycle')}</bpmn:boundaryEvent>`
  + '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done" /><bpmn:endEvent id="done" />'
  + '<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded" /><bpmn:endEvent id="reminded" />'
  + '</bpmn:process></bpmn:definitions>'

function deployXml(name: string, xml: string) {
  return client.zeebe.deployResource({ name, process: Buffer.from(xml) })
}

describe('a timer cycle that does not advance time', () => {
  test.each(['R/PT0S', 'R5/PT0S', 'R/P0D', 'R/-PT1S'])(
    'a timer start event with %s is rejected at deployment naming the element, and the engine keeps serving', async (cycle) => {
      // when
      const failure = await grpcFailure(deployXml('tg-zero-start.bpmn', timerStart('tg-zero-start', cycle)))
      // then
      expect(failure.code).toBe(GrpcStatus.INVALID_ARGUMENT)
      expect(failure.details).toContain('- Element: tick')
      expect(failure.details).toContain(`Invalid timeCycle '${cycle}'`)
      expect(failure.details).toContain('is not longer than zero')
      const deployed = await deployXml('tg-hourly-start.bpmn', timerStart('tg-hourly-start', 'R/PT1H'))
      expect(deployed.deployments).toHaveLength(1)
    })

  test('a boundary cycle computed as R/PT0S raises an incident on the element, and another instance still completes', async () => {
    // given
    await deployXml('tg-boundary-cycle.bpmn', BOUNDARY_CYCLE)
    // when
    const frozen = await startInstance('tg-boundary-cycle', { cycle: 'R/PT0S' })
    // then
    const incident = await activeIncident(frozen)
    expect(incident).toMatchObject({ errorType: 'EXTRACT_VALUE_ERROR', elementId: 'work' })
    expect(incident.errorMessage).toContain("Invalid timer cycle 'R/PT0S'")
    // when another instance runs with a sane cycle
    const sane = await startInstance('tg-boundary-cycle', { cycle: 'R2/PT1H' })
    await eventually(async () => expect(await elementStates(sane, 'work')).toEqual(['ACTIVE']))
    await increaseTime(HOUR)
    await eventually(async () => expect(await elementStates(sane, 'reminded')).toEqual(['COMPLETED']))
    const job = await jobFor('tg-work', sane)
    await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
    // then
    await eventually(async () => expect(await instanceState(sane)).toBe('COMPLETED'))
  })
})

describe('durations keep their Zeebe meaning', () => {
  test.each(['PT0S', '-PT1S'])('a boundary duration %s is accepted and fires at once', async (duration) => {
    // given
    const xml = BOUNDARY_CYCLE.replace(/tg-boundary-cycle/g, 'tg-boundary-now')
      .replace(' cancelActivity="false"', '')
      .replace(timer('timeCycle', '=cycle'), timer('timeDuration', duration))
    await deployXml('tg-boundary-now.bpmn', xml)
    // when
    const key = await startInstance('tg-boundary-now')
    // then
    await eventually(async () => expect(await instanceState(key)).toBe('COMPLETED'))
    expect(await elementStates(key, 'reminded')).toEqual(['COMPLETED'])
  })
})

describe('static timer values at deployment', () => {
  /** A process whose service task `host` carries the boundary timer `b`, and an event subprocess started by `s2`. */
  const withTimers = (boundary: string, eventSubProcess: string): string => `${HEADER}<bpmn:process id="tg-static" isExecutable="true">`
    + '<bpmn:startEvent id="start" />'
    + '<bpmn:serviceTask id="host"><bpmn:extensionElements><zeebe:taskDefinition type="t" /></bpmn:extensionElements></bpmn:serviceTask>'
    + `<bpmn:boundaryEvent id="b" attachedToRef="host" cancelActivity="false">${boundary}</bpmn:boundaryEvent>`
    + `<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="s2" isInterrupting="false">${eventSubProcess}</bpmn:startEvent></bpmn:subProcess>`
    + '</bpmn:process></bpmn:definitions>'

  test('a cycle that does not advance is a problem on its element, wherever it sits', async () => {
    // when
    const { problems } = await parseBpmn(withTimers(timer('timeCycle', 'R/PT0.0001S'), timer('timeCycle', 'R3/P1MT-700H')))
    // then
    expect(problems).toEqual([
      { elementId: 'b', message: expect.stringContaining("Invalid timeCycle 'R/PT0.0001S': the interval 'PT0.0001S' is not longer than zero") },
      { elementId: 's2', message: expect.stringContaining("Invalid timeCycle 'R3/P1MT-700H': the interval 'P1MT-700H' is not longer than zero") },
    ])
  })

  test('cycles that advance, zero and negative durations, cron and zoned dates are accepted', async () => {
    // when / then
    for (const [boundary, eventSubProcess] of [
      [timer('timeCycle', 'R/PT1S'), timer('timeDuration', 'PT0S')],
      [timer('timeCycle', 'R/2030-01-01T00:00:00+01:00[Europe/Paris]/P1MT-671H'), timer('timeDuration', '-PT1S')],
      [timer('timeCycle', '0 0 9 * * MON-FRI'), timer('timeDate', '2030-01-01T09:00:00Z')],
    ]) {
      expect((await parseBpmn(withTimers(boundary, eventSubProcess))).problems).toEqual([])
    }
  })

  test('a cron cycle is checked for its syntax only, as Spring CronExpression.parse does in Zeebe', async () => {
    // when
    const { problems } = await parseBpmn(withTimers(timer('timeCycle', '0 0 25 * * *'), timer('timeCycle', '@every5m')))
    // then
    expect(problems).toEqual([
      { elementId: 'b', message: "Invalid timeCycle '0 0 25 * * *': '25' is outside 0-23 in the hour field" },
      { elementId: 's2', message: expect.stringContaining("Invalid timeCycle '@every5m'") },
    ])
    // a cron that parses but never matches is accepted, and fails when scheduled
    expect((await parseBpmn(withTimers(timer('timeCycle', '0 0 0 30 2 *'), timer('timeCycle', '@daily')))).problems).toEqual([])
  })

  test('a cycle start without an offset, or a date that does not exist, is refused as java.time ZonedDateTime.parse refuses them', async () => {
    // when
    const { problems } = await parseBpmn(withTimers(timer('timeCycle', 'R/2030-01-01T00:00:00/PT1H'), timer('timeDate', '2030-02-30T09:00:00Z')))
    // then
    expect(problems).toEqual([
      { elementId: 'b', message: "Invalid timeCycle 'R/2030-01-01T00:00:00/PT1H'" },
      { elementId: 's2', message: "Invalid timeDate '2030-02-30T09:00:00Z'" },
    ])
  })
})
