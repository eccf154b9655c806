/**
 * Link events (issue #18), as Zeebe 8.8 runs them (docs: components/modeler/bpmn/link-events): a
 * link throw event jumps to the link catch event of the same name in its own scope; deployment
 * refuses a throw link without its catch in the scope, two catch links of one name, and a link
 * without a name, with Zeebe's wording (its model validation's link rules).
 */
import { engineTestKit, grpcFailure } from '../support/engine-test-kit'

const { client, startInstance, expectInstanceState, elementStates, activateOne } = engineTestKit({ worker: 'link-events' })

const task = (id: string, type: string): string =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements></bpmn:serviceTask>`
const link = (id: string, kind: 'Throw' | 'Catch', name: string): string =>
  `<bpmn:intermediate${kind}Event id="${id}"><bpmn:linkEventDefinition id="${id}-def" name="${name}" /></bpmn:intermediate${kind}Event>`
const flow = (id: string, from: string, to: string): string => `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
const definitions = (id: string, body: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-${id}">
<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`

/** start → A → throw "to-B" … catch "to-B" → B → end; inside S, its own link of the same name. */
const LINKS = definitions('links', `<bpmn:startEvent id="start" />${task('A', 'link-a')}${link('throw-b', 'Throw', 'to-B')}
${link('catch-b', 'Catch', 'to-B')}${task('B', 'link-b')}
<bpmn:subProcess id="S"><bpmn:startEvent id="s-start" />${link('s-throw', 'Throw', 'to-B')}${link('s-catch', 'Catch', 'to-B')}${task('C', 'link-c')}<bpmn:endEvent id="s-end" />
${flow('s1', 's-start', 's-throw')}${flow('s2', 's-catch', 'C')}${flow('s3', 'C', 's-end')}</bpmn:subProcess>
<bpmn:endEvent id="end" />
${flow('f1', 'start', 'A')}${flow('f2', 'A', 'throw-b')}${flow('f3', 'catch-b', 'B')}${flow('f4', 'B', 'S')}${flow('f5', 'S', 'end')}`)

beforeAll(async () => {
  await client.zeebe.deployResources([{ name: 'links.bpmn', process: Buffer.from(LINKS) }])
})

test('a link throw event jumps to the catch link of its name, in its own scope: the process and a subprocess each follow their own link', async () => {
  // given an instance at A
  const key = await startInstance('links')
  // when A completes
  await client.zeebe.completeJob({ jobKey: (await activateOne('link-a', key)).key, variables: {} })
  // then the token goes through the link to B
  await client.zeebe.completeJob({ jobKey: (await activateOne('link-b', key)).key, variables: {} })
  // and inside S, through S's own link to C
  await client.zeebe.completeJob({ jobKey: (await activateOne('link-c', key)).key, variables: {} })
  await expectInstanceState(key, 'COMPLETED')
  expect(await elementStates(key, 'throw-b')).toEqual(['COMPLETED'])
  expect(await elementStates(key, 'catch-b')).toEqual(['COMPLETED'])
  expect(await elementStates(key, 's-catch')).toEqual(['COMPLETED'])
})

test('deployment refuses a throw link without its catch in the same scope, two catch links of one name, and a link with an empty name (the schema requires the attribute)', async () => {
  const cases: [string, string][] = [
    [definitions('no-catch', `<bpmn:startEvent id="start" />${link('throw', 'Throw', 'nowhere')}${flow('f1', 'start', 'throw')}
<bpmn:subProcess id="S"><bpmn:startEvent id="s" />${link('c', 'Catch', 'nowhere')}<bpmn:endEvent id="e" />${flow('s1', 's', 'e')}${flow('s2', 'c', 'e')}</bpmn:subProcess>`),
    "- Element: no-catch\n    - ERROR: Can't find an catch link event for the throw link event with the name 'nowhere'."],
    [definitions('twice', `<bpmn:startEvent id="start" />${link('throw', 'Throw', 'L')}${link('c1', 'Catch', 'L')}${link('c2', 'Catch', 'L')}<bpmn:endEvent id="end" />
${flow('f1', 'start', 'throw')}${flow('f2', 'c1', 'end')}${flow('f3', 'c2', 'end')}`),
    "- Element: twice\n    - ERROR: Multiple intermediate catch link event definitions with the same name 'L' are not allowed."],
    [definitions('unnamed', `<bpmn:startEvent id="start" /><bpmn:intermediateThrowEvent id="throw"><bpmn:linkEventDefinition id="d" name="" /></bpmn:intermediateThrowEvent>${flow('f1', 'start', 'throw')}`),
    '- Element: throw\n    - ERROR: Link name must be present and not empty.'],
  ]
  for (const [xml, problem] of cases) {
    const refused = await grpcFailure(client.zeebe.deployResources([{ name: 'refused.bpmn', process: Buffer.from(xml) }]))
    expect(refused.details).toContain(problem)
  }
})
