/**
 * Timers that could never fire sensibly (issue 14): a cycle whose interval does not advance time
 * would fire again in the same instant without end and freeze the engine. Static ones are refused
 * at deployment, ones computed at run time raise an incident, and the engine keeps serving.
 * Durations keep Zeebe 8.8's meaning: Interval.parse (zeebe/bpmn-model .../util/time/Interval.java)
 * accepts "PT0S" and negative durations, and Interval.toEpochMilli puts them at or before now, so
 * they fire at once.
 */
import { GrpcStatus, HOUR, engineTestKit, eventually, grpcFailure } from '../support/engine-test-kit'

const {
  client, startInstance, increaseTime, instanceState, elementStates, activeIncident, jobFor,
} = engineTestKit({ worker: 'timer-guards-test', pinClock: true })

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
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
