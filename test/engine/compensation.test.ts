/**
 * Compensation (issue #18), as Zeebe 8.8 runs it (docs: components/modeler/bpmn/compensation-
 * handler and compensation events): a completed activity with a compensation boundary event is
 * undone by its handler when a compensation throw event of its scope is reached (all of them, or
 * its activityRef only, those in completed subprocesses too); the throw event waits for the
 * handlers; each handler runs once. Deployment refuses what Zeebe's compensation rules refuse.
 */
import { engineTestKit, grpcFailure } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, elementStates, activateOne, activateNow } = engineTestKit({ worker: 'compensation' })

const task = (id: string, type: string, extra = ''): string =>
  `<bpmn:serviceTask id="${id}"${extra}><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
/** An activity with its compensation boundary event and handler. */
const undoable = (id: string): string => `${task(id, `comp-${id}`)}
<bpmn:boundaryEvent id="${id}-comp" attachedToRef="${id}"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
${task(`undo-${id}`, `comp-undo-${id}`, ' isForCompensation="true"')}
<bpmn:association id="${id}-assoc" associationDirection="One" sourceRef="${id}-comp" targetRef="undo-${id}" />`
const flow = (id: string, from: string, to: string): string => `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
const throwing = (id: string, activityRef?: string): string =>
  `<bpmn:intermediateThrowEvent id="${id}"><bpmn:compensateEventDefinition${activityRef ? ` activityRef="${activityRef}"` : ''} /></bpmn:intermediateThrowEvent>`
const ASSOCIATION = /<bpmn:association [^>]*\/>/g
/** The BPMN schema wants a process's artifacts (associations) after its flow elements: they are moved there. */
const definitions = (id: string, body: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${body.replace(ASSOCIATION, '')}${(body.match(ASSOCIATION) ?? []).join('')}</bpmn:process></bpmn:definitions>`

/** start → A → B → compensate (all, or A only) → after → end */
const chain = (id: string, activityRef?: string) => definitions(id, `<bpmn:startEvent id="start" />${undoable('A')}${undoable('B')}${throwing('compensate', activityRef)}
${task('after', `${id}-after`)}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'A')}${flow('f2', 'A', 'B')}${flow('f3', 'B', 'compensate')}${flow('f4', 'compensate', 'after')}${flow('f5', 'after', 'end')}`)

/** start → S (A inside, completed) → compensate everything → end */
const NESTED = definitions('comp-nested', `<bpmn:startEvent id="start" />
<bpmn:subProcess id="S"><bpmn:startEvent id="s-start" />${undoable('A')}<bpmn:endEvent id="s-end" />${flow('s1', 's-start', 'A')}${flow('s2', 'A', 's-end')}</bpmn:subProcess>
<bpmn:endEvent id="compensate-end"><bpmn:compensateEventDefinition /></bpmn:endEvent>
${flow('f1', 'start', 'S')}${flow('f2', 'S', 'compensate-end')}`)

beforeAll(async () => {
  await client.zeebe.deployResources([
    { name: 'comp-all.bpmn', process: Buffer.from(chain('comp-all')) },
    { name: 'comp-ref.bpmn', process: Buffer.from(chain('comp-ref', 'A')) },
    { name: 'comp-nested.bpmn', process: Buffer.from(NESTED) },
  ])
})

async function complete(type: string, key: string): Promise<void> {
  const job = await activateOne(type, key)
  await client.zeebe.completeJob({ jobKey: job.key, variables: {} })
}

test('the throw event runs the handler of every completed activity of its scope, waits for them, then goes on', async () => {
  const key = await startInstance('comp-all')
  await complete('comp-A', key)
  await complete('comp-B', key)
  // both handlers run, and the throw event waits
  await complete('comp-undo-A', key)
  expect(await elementStates(key, 'compensate')).toEqual(['ACTIVE'])
  await complete('comp-undo-B', key)
  await complete('comp-all-after', key)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'undo-A')).toEqual(['COMPLETED'])
  expect(await elementStates(key, 'undo-B')).toEqual(['COMPLETED'])
  expect(await elementStates(key, 'compensate')).toEqual(['COMPLETED'])
})

test('with an activityRef, only that activity is compensated', async () => {
  const key = await startInstance('comp-ref')
  await complete('comp-A', key)
  await complete('comp-B', key)
  await complete('comp-undo-A', key)
  await complete('comp-ref-after', key)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'undo-B')).toEqual([])
  expect(await activateNow('comp-undo-B')).toEqual([])
})

test('an activity of a completed subprocess is compensated by a compensation end event of the outer scope', async () => {
  const key = await startInstance('comp-nested')
  await complete('comp-A', key)
  await complete('comp-undo-A', key)
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'compensate-end')).toEqual(['COMPLETED'])
})

test('a throw event with nothing completed to compensate passes at once', async () => {
  await client.zeebe.deployResources([{ name: 'comp-empty.bpmn', process: Buffer.from(definitions('comp-empty', `<bpmn:startEvent id="start" />${undoable('A')}${throwing('compensate')}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'compensate')}${flow('f2', 'compensate', 'end')}`)) }])
  const key = await startInstance('comp-empty')
  await expectInstanceState(key, 'COMPLETED')
})

test('deployment refuses what Zeebe\'s compensation rules refuse, with their wording', async () => {
  const cases: [string, string][] = [
    [definitions('comp-bad-1', `<bpmn:startEvent id="start" />${task('A', 'a')}<bpmn:boundaryEvent id="A-comp" attachedToRef="A"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent><bpmn:endEvent id="end" />${flow('f1', 'start', 'A')}${flow('f2', 'A', 'end')}`),
      '- Element: A-comp\n    - ERROR: Compensation boundary events must have a compensation association and no outgoing sequence flows'],
    [definitions('comp-bad-2', `<bpmn:startEvent id="start" />${undoable('A')}${throwing('compensate', 'nowhere')}<bpmn:endEvent id="end" />${flow('f1', 'start', 'A')}${flow('f2', 'A', 'compensate')}${flow('f3', 'compensate', 'end')}`),
      "- Element: compensate\n    - ERROR: The referenced compensation activity 'nowhere' doesn't exist"],
    [definitions('comp-bad-3', `<bpmn:startEvent id="start" />${undoable('A')}<bpmn:endEvent id="end"><bpmn:compensateEventDefinition waitForCompletion="false" /></bpmn:endEvent>${flow('f1', 'start', 'A')}${flow('f2', 'A', 'end')}`),
      '- Element: end\n    - ERROR: A compensation end event waitForCompletion attribute must be true or not present'],
    [definitions('comp-bad-4', `<bpmn:startEvent id="start" />${undoable('A')}<bpmn:endEvent id="end" />${flow('f1', 'start', 'A')}${flow('f2', 'A', 'end')}${flow('f3', 'start', 'undo-A')}`),
      '- Element: undo-A\n    - ERROR: A compensation handler should have no incoming sequence flows'],
  ]
  for (const [xml, problem] of cases) {
    const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'refused.bpmn', process: Buffer.from(xml) }]))
    expect(refused.details).toContain(problem)
  }
})
