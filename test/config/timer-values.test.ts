/**
 * Durations and cycles of the configuration become timers of the deployed processes: a zero
 * interval (R/PT0S, PT0S) would fire without end, so the schema refuses it with its path.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { ConfigError, loadConfig } from '../../src/config'
import { exampleTokens } from '../workers/fixtures'

const EXAMPLE = resolve(__dirname, '../../raccord.config.example.yaml')
const TOKENS = exampleTokens()

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raccord-config-timers-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Loads the example with `section.key` set to `value`: the ConfigError's problems, or [] when it loads. */
function problemsWith(section: string, key: string, value: string): Array<{ path: string; message: string }> {
  const config = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, Record<string, unknown> | undefined>
  config[section] = { ...config[section], [key]: value }
  const file = join(dir, 'raccord.config.yaml')
  writeFileSync(file, stringify(config))
  try {
    loadConfig(file, TOKENS)
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.problems.map(({ path, message }) => ({ path, message }))
  }
}

describe('securityWatch.cycle', () => {
  test.each(['R/PT0S', 'R/P0D', 'R5/PT0H0M0S', 'R/P0Y0M0W0DT0H0M0S'])('%s (a zero interval) is refused with its path', (cycle) => {
    expect(problemsWith('securityWatch', 'cycle', cycle)).toEqual([
      { path: 'securityWatch.cycle', message: expect.stringContaining('zero interval') },
    ])
  })

  test.each(['R/P-1D', 'R/PT-5M', 'R/PT', 'R/P'])('%s (negative or empty) is refused with its path', (cycle) => {
    expect(problemsWith('securityWatch', 'cycle', cycle)).toEqual([{ path: 'securityWatch.cycle', message: expect.stringContaining('Invalid cycle') }])
  })

  test.each(['R/P7D', 'R3/PT1H', 'R/PT0H30M', '0 0 8 * * MON'])('%s is accepted', (cycle) => {
    expect(problemsWith('securityWatch', 'cycle', cycle)).toEqual([])
  })
})

describe('durations', () => {
  test.each([
    ['interconnectionCuts', 'acknowledgementDelay'],
    ['interconnectionCuts', 'crisisMeetingWithin'],
    ['interconnectionCuts', 'linkValidity'],
    ['traceExchange', 'answerDelay'],
    ['changes', 'providerAnswerDelay'],
  ])('%s.%s: PT0S and P0D are refused with the path; -PT1H too', (section, key) => {
    for (const zero of ['PT0S', 'P0D']) {
      expect(problemsWith(section, key, zero)).toEqual([{ path: `${section}.${key}`, message: expect.stringContaining('zero interval') }])
    }
    expect(problemsWith(section, key, '-PT1H')).toEqual([{ path: `${section}.${key}`, message: expect.stringContaining('Invalid duration') }])
    expect(problemsWith(section, key, 'PT1M')).toEqual([])
  })
})
