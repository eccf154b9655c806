/**
 * Install-time scripts: package.json's `allowScripts` (npm 11) approves only the install scripts
 * raccord needs, so the @carbon packages' postinstall (IBM's telemetry program: it scans the
 * project, runs git, posts to its vendor, leaves logs in /tmp and background processes behind)
 * never runs. These tests check the outcome on the node_modules this checkout runs with.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')
const NODE_MODULES = join(ROOT, 'node_modules')
const TELEMETRY_PACKAGE = join(NODE_MODULES, '@ibm/telemetry-js')
/** The packages whose install scripts start the telemetry program. */
const TELEMETRY_CARRIERS = ['@carbon/grid', '@carbon/layout']

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }

/** `name` or `name@range` keys of allowScripts, as package names. */
function allowScriptsByName(): Map<string, boolean> {
  return new Map(Object.entries(manifest.allowScripts ?? {}).map(([key, allowed]) => [key.replace(/(?<=.)@.*$/, ''), allowed]))
}

/** Every installed package npm recorded as having an install script (preinstall, install, postinstall or binding.gyp). */
function packagesWithInstallScripts(): string[] {
  const lock = JSON.parse(readFileSync(join(NODE_MODULES, '.package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> }
  const names = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript === true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
  return [...new Set(names)].sort()
}

describe('install scripts', () => {
  test('allowScripts approves exactly better-sqlite3, esbuild and protobufjs, and denies the telemetry carriers', () => {
    const rules = allowScriptsByName()
    expect([...rules].filter(([, allowed]) => allowed).map(([name]) => name).sort()).toEqual(['better-sqlite3', 'esbuild', 'protobufjs'])
    for (const name of TELEMETRY_CARRIERS) expect({ name, allowed: rules.get(name) }).toEqual({ name, allowed: false })
  })

  test('every installed package with an install script is covered by allowScripts (none left for npm to run unreviewed)', () => {
    const withScripts = packagesWithInstallScripts()
    // The lockfile does see the telemetry carriers' postinstall: the check is not vacuous.
    expect(withScripts).toEqual(expect.arrayContaining(['better-sqlite3', ...TELEMETRY_CARRIERS]))
    const rules = allowScriptsByName()
    expect(withScripts.filter((name) => !rules.has(name))).toEqual([])
  })

  test('no telemetry program runs from this checkout', () => {
    const roots = [...new Set([TELEMETRY_PACKAGE, realpathSync(NODE_MODULES) + '/@ibm/telemetry-js'])]
    const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
    const telemetry = processes.filter((line) => roots.some((root) => line.includes(root)) || /\bibmtelemetry\b/.test(line))
    expect(telemetry).toEqual([])
  })

  test('no telemetry log was written in the temporary directory since node_modules was installed', () => {
    // The carriers' directories are made when npm unpacks them, before any install script could run.
    const installedAt = Math.min(
      statSync(join(NODE_MODULES, '.package-lock.json')).mtimeMs,
      ...TELEMETRY_CARRIERS.map((name) => statSync(join(NODE_MODULES, name)).mtimeMs),
    )
    const logs = [...new Set([tmpdir(), '/tmp'])].flatMap((dir) => readdirSync(dir)
      .filter((name) => name.startsWith('ibmtelemetry-'))
      .map((name) => join(dir, name))
      .filter((file) => statSync(file).mtimeMs >= installedAt))
    expect(logs).toEqual([])
  })

  test('npm itself finds no install script left unreviewed, when it knows allowScripts (npm 11)', () => {
    const version = execFileSync('npm', ['--version'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const major = Number(version.split('.')[0])
    if (major < 11) {
      // npm 10 ignores allowScripts: the lockfile check above is the one that holds there.
      expect(() => execFileSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, stdio: 'pipe' })).toThrow()
      return
    }
    expect(execFileSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, encoding: 'utf8' })).toContain('No packages with unreviewed install scripts')
  })
})
