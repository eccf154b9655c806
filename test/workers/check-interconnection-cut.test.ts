/**
 * check-interconnection-cut without an engine, on a real cut trail in a temporary dir: an
 * interconnection is held by its latest cut until that cut is restored (CUT-1, CRI-3).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CutServices } from '../../src/app/cuts/cut-services'
import { CutStore, type NewCut } from '../../src/app/cuts/cut-store'
import { JobInputError } from '../../src/app/worker-kit/job-input'
import * as checkInterconnectionCut from '../../workers/check-interconnection-cut'
import { workerFixture, type WorkerFixture } from './fixtures'

let f: WorkerFixture
let dir: string
let store: CutStore
beforeEach(() => {
  f = workerFixture()
  dir = mkdtempSync(join(tmpdir(), 'raccord-check-cut-'))
  store = CutStore.open(dir)
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
  f.close()
})

const cut = (id: string, interconnectionId: string, requestedAt: string): NewCut => ({
  id, interconnectionId, service: 'demarches-alpha', environment: 'preproduction', otherParty: 'fournisseur-alpha', origin: 'self', reason: `raison ${id}`, requestedBy: 'Alix Robert (portail)', requestedAt,
})

/** Only the trail is read; the other cut services are never reached. */
const check = (interconnectionId: string) =>
  checkInterconnectionCut.handle({ interconnectionId }, { ...f.context({ headers: {} }), cuts: { store } as unknown as CutServices })

test('CUT-1, CRI-3: an interconnection never cut, or whose cuts are all restored, is not held', async () => {
  await expect(check('alpha-preprod')).resolves.toEqual({ openCut: null })
  store.openCut(cut('CUT-1', 'alpha-preprod', '2025-03-01T09:00:00.000Z'))
  store.setState('CUT-1', 'restored', '2025-03-02T09:00:00.000Z')
  await expect(check('alpha-preprod')).resolves.toEqual({ openCut: null })
})

test('CUT-1, CRI-3: the latest cut not restored holds the interconnection, restoring included; other interconnections are not held', async () => {
  store.openCut(cut('CUT-1', 'alpha-preprod', '2025-03-01T09:00:00.000Z'))
  store.openCut(cut('CUT-2', 'alpha-preprod', '2025-03-05T09:00:00.000Z'))
  store.setState('CUT-2', 'restoring', '2025-03-06T09:00:00.000Z')
  await expect(check('alpha-preprod')).resolves.toEqual({ openCut: { cutId: 'CUT-2', state: 'restoring', requestedAt: '2025-03-05T09:00:00.000Z', reason: 'raison CUT-2' } })
  await expect(check('beta-preprod')).resolves.toEqual({ openCut: null })
})

test('CUT-1: started without the cut services, the job says what is missing', async () => {
  await expect(checkInterconnectionCut.handle({ interconnectionId: 'alpha-preprod' }, f.context({ headers: {} }))).rejects.toThrow(JobInputError)
})
