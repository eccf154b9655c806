/**
 * Secrets raccord makes survive a restart (issue 15): the link-signing secret and the tokens of
 * `npm start` are made once, kept in the data dir readable by the owner only, and reused, so a
 * link mailed before a restart still works after it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { persistentSecret, SECRETS_DIR } from '../../src/app/access/persistent-secret'
import { openInterconnectionCuts } from '../../src/wiring/cut-wiring'
import { LinkRefusedError } from '../../src/app/cuts/signed-links'
import { generateMissingTokens } from '../../src/wiring/start'
import { exampleConfig } from '../workers/fixtures'

const EXAMPLE = path.join(__dirname, '../../raccord.config.example.yaml')

let dataDir: string
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'raccord-secrets-'))
})
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true })
})

const modeOf = (file: string) => statSync(file).mode & 0o777

test('a secret is made once, kept owner-only (0600 in a 0700 dir), and read back the same', () => {
  const first = persistentSecret(dataDir, 'link-secret')
  const file = path.join(dataDir, SECRETS_DIR, 'link-secret')
  expect(first.length).toBeGreaterThanOrEqual(32)
  expect(modeOf(file)).toBe(0o600)
  expect(modeOf(path.join(dataDir, SECRETS_DIR))).toBe(0o700)
  expect(persistentSecret(dataDir, 'link-secret')).toBe(first)
  expect(persistentSecret(dataDir, 'other')).not.toBe(first)
})

test('a secret file whose mode was widened is narrowed back to 0600 and kept', () => {
  const first = persistentSecret(dataDir, 'link-secret')
  const file = path.join(dataDir, SECRETS_DIR, 'link-secret')
  chmodSync(file, 0o644)
  expect(persistentSecret(dataDir, 'link-secret')).toBe(first)
  expect(modeOf(file)).toBe(0o600)
})

test('a link signed before a restart is accepted after it; an expired one says expired, a foreign one is refused', () => {
  const config = exampleConfig()
  const before = openInterconnectionCuts({ config, dataDir, env: {} })
  const now = new Date()
  const token = before.cuts.links.sign({ cutId: 'CUT-1', purpose: 'acknowledge-cut', party: 'fournisseur-alpha', exp: now.getTime() + 60_000 })
  const expired = before.cuts.links.sign({ cutId: 'CUT-1', purpose: 'acknowledge-cut', party: 'fournisseur-alpha', exp: now.getTime() - 1 })
  before.close()
  // the restart
  const after = openInterconnectionCuts({ config, dataDir, env: {} })
  try {
    expect(after.cuts.links.verify(token, now)).toMatchObject({ cutId: 'CUT-1', purpose: 'acknowledge-cut' })
    expect(() => after.cuts.links.verify(expired, now)).toThrow(new LinkRefusedError('expired'))
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'raccord-secrets-other-'))
    const other = openInterconnectionCuts({ config, dataDir: elsewhere, env: {} })
    try {
      expect(() => other.cuts.links.verify(token, now)).toThrow(new LinkRefusedError('forged'))
    } finally {
      other.close()
      rmSync(elsewhere, { recursive: true, force: true })
    }
  } finally {
    after.close()
  }
})

test('the tokens `npm start` makes are kept in the data dir and the same after a restart; set ones are left alone', () => {
  const first = generateMissingTokens(EXAMPLE, { RACCORD_TOKEN_ADMIN: 'from-the-environment' }, dataDir)
  const again = generateMissingTokens(EXAMPLE, { RACCORD_TOKEN_ADMIN: 'from-the-environment' }, dataDir)
  expect(first.generated.length).toBeGreaterThan(5)
  expect(first.generated.map((token) => token.envVar)).not.toContain('RACCORD_TOKEN_ADMIN')
  expect(again.generated).toEqual(first.generated)
  expect(first.env.RACCORD_TOKEN_ADMIN).toBe('from-the-environment')
  for (const { envVar, token } of first.generated) {
    const file = path.join(dataDir, SECRETS_DIR, `token-${envVar}`)
    expect(readFileSync(file, 'utf8').trim()).toBe(token)
    expect(modeOf(file)).toBe(0o600)
  }
})

test('an empty secret file is replaced by a new secret', () => {
  persistentSecret(dataDir, 'link-secret')
  writeFileSync(path.join(dataDir, SECRETS_DIR, 'link-secret'), '\n')
  const renewed = persistentSecret(dataDir, 'link-secret')
  expect(renewed.length).toBeGreaterThanOrEqual(32)
  expect(persistentSecret(dataDir, 'link-secret')).toBe(renewed)
})
