/**
 * Client commands take turns of the event loop (issue #19: no stall over 100 ms): a burst runs a
 * slice at a time, in order of arrival, and a command that fails fails alone.
 */
import { CommandPacer } from '../../src/engine/pacing'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

test('a burst of commands runs a slice per turn of the event loop, in the order they arrived', async () => {
  // given a pacer of 3 commands a turn, and a burst of 7 commands arriving in one turn
  const pacer = new CommandPacer(1_000, 3)
  const ran: number[] = []
  const answers = Array.from({ length: 7 }, (_, i) => pacer.run(() => {
    ran.push(i)
    return i * 10
  }))
  // then the first 3 ran at once, and the others wait
  expect(ran).toEqual([0, 1, 2])
  expect(pacer.backlog).toBe(4)
  // when the turn ends, the others still wait: its slice was spent (no second slice in one turn)
  await nextTurn()
  expect(ran).toEqual([0, 1, 2])
  // and the next turns run the next 3, then the last one
  await nextTurn()
  expect(ran).toEqual([0, 1, 2, 3, 4, 5])
  await nextTurn()
  expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6])
  expect(pacer.backlog).toBe(0)
  // and each caller got its own command's answer
  expect(await Promise.all(answers)).toEqual([0, 10, 20, 30, 40, 50, 60])
})

test('once a turn has run commands for its time, the next command waits for a later turn, even under the count', async () => {
  // given a pacer of 5 ms a turn on a clock the test moves, and a first command that takes 6 ms
  let now = 0
  const pacer = new CommandPacer(5, 100, () => now)
  const ran: string[] = []
  void pacer.run(() => {
    ran.push('slow')
    now += 6
  })
  // when another command arrives in the same turn
  const second = pacer.run(() => ran.push('next'))
  // then it does not run in this turn, even at its end, but in the next
  expect(ran).toEqual(['slow'])
  await nextTurn()
  expect(ran).toEqual(['slow'])
  await nextTurn()
  expect(ran).toEqual(['slow', 'next'])
  await second
})

test('a command that throws fails its own caller only; those after it still run', async () => {
  // given a pacer of 1 command a turn and three commands, the second of which throws
  const pacer = new CommandPacer(1_000, 1)
  const first = pacer.run(() => 'first')
  const second = pacer.run(() => {
    throw new Error('unknown process definition')
  })
  const third = pacer.run(() => 'third')
  // then the second caller gets its error, and the others their answers
  await expect(second).rejects.toThrow('unknown process definition')
  await expect(first).resolves.toBe('first')
  await expect(third).resolves.toBe('third')
})

test('a command arriving after a quiet spell runs at once, in the turn it arrived', async () => {
  // given a pacer whose last slice ended long ago
  const pacer = new CommandPacer(10, 2)
  await pacer.run(() => 1)
  await pacer.run(() => 2)
  await nextTurn()
  // when a command arrives, then it runs before the caller's next line
  let ran = false
  const answer = pacer.run(() => (ran = true))
  expect(ran).toBe(true)
  await answer
})
