/**
 * The history of finished instances survives a crash (issue #19): it is written in the same
 * transaction as the commands that finished the instances, so after a SIGKILL every instance the
 * engine acknowledged as finished is found once, neither lost nor doubled by the replay.
 */
import { engineProcessKit } from '../support/engine-process'

jest.setTimeout(120_000)

const STRAIGHT = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions targetNamespace="http://bpmn.io/schema/bpmn" xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-straight">
<bpmn:process id="straight" isExecutable="true"><bpmn:startEvent id="start" /><bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" /></bpmn:process></bpmn:definitions>`

const kit = engineProcessKit('history-crash')

test('every instance acknowledged as finished is found exactly once after a SIGKILL and a restart', async () => {
  // given instances that ran to their end, each acknowledged with its result
  const client = await kit.start()
  await client.zeebe.deployResources([{ name: 'straight.bpmn', process: Buffer.from(STRAIGHT) }])
  const keys = new Set<string>()
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 50; i++) keys.add((await client.zeebe.createProcessInstanceWithResult({ bpmnProcessId: 'straight', variables: { i } })).processInstanceKey)
  }))
  // when the engine is killed at once, and started again on its data dir
  await kit.stop('SIGKILL')
  await kit.start()
  // then each of them is found once, completed
  const found = await kit.search<{ processInstanceKey: string; state: string }>('process-instances', { processDefinitionId: 'straight' }, { limit: 1000 })
  expect(found).toHaveLength(keys.size)
  expect(new Set(found.map((i) => i.processInstanceKey))).toEqual(keys)
  expect(found.every((i) => i.state === 'COMPLETED')).toBe(true)
})
