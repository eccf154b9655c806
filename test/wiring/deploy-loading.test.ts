/**
 * `raccord deploy` loads only what a deployment needs (issue 13): the command line, the
 * configuration errors, src/wiring/deploy.ts and the SDK; neither the embedded engine nor the
 * application (domains, API, console, status page, workers, the rest of the wiring).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
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
  const ours = modules.filter((file) => file.startsWith(`${ROOT}/src/`) || file.startsWith(`${ROOT}/workers/`)).map((file) => file.slice(ROOT.length + 1))
  expect(ours).toContain('src/wiring/deploy.ts')
  expect(ours.filter((file) => /^(src\/(engine|app|api|console|status|notify|storage|engine-client)\/|src\/wiring\/(?!deploy\.ts$)|workers\/)/.test(file))).toEqual([])
  expect(modules.some((file) => file.includes('/node_modules/express/'))).toBe(false)
})
