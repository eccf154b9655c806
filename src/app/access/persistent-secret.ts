/**
 * Secrets raccord makes itself (the link-signing secret, the tokens of `npm start`): created once,
 * kept in the data dir readable by the owner only (0600), and read back on every start, so that
 * links mailed before a restart keep working. Never logged.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where the secrets live in the data dir. */
export const SECRETS_DIR = 'secrets'

/** The secret named `name`, made on first use. `name` is a file name: letters, digits, dashes and underscores. */
export function persistentSecret(dataDir: string, name: string, bytes = 32): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`Invalid secret name '${name}'`)
  const dir = join(dataDir, SECRETS_DIR)
  const file = join(dir, name)
  const exists = existsSync(file)
  if (exists) {
    // Tighten a file whose mode was widened by hand: only raccord's user reads it.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
    const kept = readFileSync(file, 'utf8').trim()
    if (kept !== '') return kept
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(bytes).toString('base64url')
  // wx on a new file: two starts racing on an empty data dir cannot both write; the loser reads the winner's.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: exists ? 'w' : 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readFileSync(file, 'utf8').trim()
  }
  return secret
}
