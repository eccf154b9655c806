/**
 * Each command loads only what it runs (issues 13 and 19). `raccord deploy`: the command line,
 * src/wiring/deploy.ts and the SDK; neither the embedded engine nor the application (domains,
 * API, console, status page, workers, the rest of the wiring). `raccord engine`: the engine alone,
 * without the SDK or the application, so that it serves quickly; compiled, it is one bundle
 * (dist/node/src/engine.bundle.js), whose modules are then read from esbuild's markers in it.
 * bin/raccord.js runs the compiled dist/node when it is current, else the sources: both count.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')
const CLI = join(ROOT, 'bin/raccord.js')
const MARKER = 'LOADED-MODULES '

/** Runs `raccord deploy` on a missing directory (it stops with exit 1) and answers the modules it had loaded. */
async function modulesLoadedByDeploy(dir: string): Promise<{ stderr: string; modules: string[] }> {
  const probe = join(dir, 'probe.js')
  await writeFile(probe, `process.on('exit', () => process.stderr.write('\\n${MARKER}' + JSON.stringify(Object.keys(require.cache)) + '\\n'))\n`)
  const stderr = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--require', probe, CLI, 'deploy', '--processes-dir', join(dir, 'absent')], { cwd: ROOT, env: { ...process.env, ZEEBE_GRPC_ADDRESS: 'grpc://127.0.0.1:1' } }, (_error, _stdout, err) => resolve(err))
  })
  const line = stderr.split('\n').find((candidate) => candidate.startsWith(MARKER))
  return { stderr, modules: line === undefined ? [] : (JSON.parse(line.slice(MARKER.length)) as string[]) }
}

/** Our own modules among those loaded, as source paths (`dist/node/src/x.js` reads `src/x.ts`). */
function ourModules(modules: string[]): string[] {
  return modules
    .map((file) => file.startsWith(`${ROOT}/dist/node/`) ? `${ROOT}/${file.slice(`${ROOT}/dist/node/`.length).replace(/\.js$/, '.ts')}` : file)
    .filter((file) => file.startsWith(`${ROOT}/src/`) || file.startsWith(`${ROOT}/workers/`))
    .map((file) => file.slice(ROOT.length + 1))
}

/** Our modules esbuild bundled, as source paths, from the marker it writes before each. */
function bundledModules(bundle: string): string[] {
  return [...bundle.matchAll(/^\/\/ dist\/node\/((?:src|workers)\/\S+)\.js$/gm)].map((match) => `${match[1]}.ts`)
}

/** Starts `raccord engine` on an empty data dir, stops it with SIGTERM once it serves, and answers its exit status and modules. */
async function modulesLoadedByEngine(dir: string): Promise<{ status: number | null; modules: string[] }> {
  const probe = join(dir, 'probe.js')
  await writeFile(probe, `process.on('exit', () => process.stderr.write('\\n${MARKER}' + JSON.stringify(Object.keys(require.cache)) + '\\n'))\n`)
  const child = spawn(process.execPath, ['--require', probe, CLI, 'engine', '--data-dir', join(dir, 'engine-data'), '--grpc-port', '0', '--rest-port', '0'], { cwd: ROOT })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.includes('REST API on')) child.kill('SIGTERM')
  })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const line = stderr.split('\n').find((candidate) => candidate.startsWith(MARKER))
  return { status, modules: line === undefined ? [] : (JSON.parse(line.slice(MARKER.length)) as string[]) }
}

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raccord-deploy-loading-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

test('raccord deploy loads the deployment code and the SDK, not the engine nor the application', async () => {
  // when
  const { stderr, modules } = await modulesLoadedByDeploy(dir)

  // then
  expect(stderr).toContain('is not a directory')
  const ours = ourModules(modules)
  expect(ours).toContain('src/wiring/deploy.ts')
  expect(ours.filter((file) => /^(src\/(engine|app|api|console|status|notify|storage|engine-client)\/|src\/wiring\/(?!deploy\.ts$)|workers\/)/.test(file))).toEqual([])
  expect(modules.some((file) => file.includes('/node_modules/express/'))).toBe(false)
})

test('raccord engine loads the engine alone, neither the SDK nor the application, and a SIGTERM exits 0', async () => {
  // when
  const { status, modules } = await modulesLoadedByEngine(dir)

  // then
  expect(status).toBe(0)
  const loaded = ourModules(modules)
  // The bundle stands for the modules esbuild put in it (a `// dist/node/src/...` line before each).
  const ours = loaded.includes('src/engine.bundle.ts')
    ? [...loaded.filter((file) => file !== 'src/engine.bundle.ts'), ...bundledModules(await readFile(join(ROOT, 'dist/node/src/engine.bundle.js'), 'utf8'))]
    : loaded
  expect(ours).toContain('src/engine/index.ts')
  expect(ours.filter((file) => !/^src\/(engine\/|cli\.ts$)/.test(file))).toEqual([])
  expect(modules.some((file) => file.includes('/node_modules/@camunda8/sdk/dist/'))).toBe(false)
})
