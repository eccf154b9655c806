/** The cut trail's schema moves forward without losing a cut: one recorded before "requested" existed still reads cut (CUT-2). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { CUT_STORE_FILE, CutStore } from '../../src/app/cuts/cut-store'

test('a cut recorded by an earlier raccord (schema 2) reads cut after the upgrade; a new one reads requested until our side is cut', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raccord-cut-migration-'))
  try {
    // given a trail written by the previous schema, with one cut
    const first = CutStore.open(dir)
    first.openCut({ id: 'CUT-20250101-0001', interconnectionId: 'alpha-prod', service: 'demarches-alpha', environment: 'production', otherParty: 'fournisseur-alpha', origin: 'self', reason: 'r', requestedBy: 'x', requestedAt: '2025-01-01T00:00:00Z' })
    first.close()
    const db = new Database(join(dir, CUT_STORE_FILE))
    db.exec("UPDATE cuts SET our_side_cut_at = NULL; PRAGMA user_version = 2")
    db.exec('ALTER TABLE cuts DROP COLUMN our_side_cut_at')
    db.close()
    // when this raccord opens it
    const store = CutStore.open(dir)
    // then the old cut reads cut, a new one requested, then cut once our side is
    expect(store.requireCut('CUT-20250101-0001').state).toBe('cut')
    store.openCut({ id: 'CUT-20250101-0002', interconnectionId: 'beta-prod', service: 'payments-beta', environment: 'production', otherParty: 'provider-beta', origin: 'self', reason: 'r', requestedBy: 'x', requestedAt: '2025-01-02T00:00:00Z' })
    expect(store.requireCut('CUT-20250101-0002').state).toBe('requested')
    store.markOurSideCut('CUT-20250101-0002', '2025-01-02T00:05:00Z')
    expect(store.requireCut('CUT-20250101-0002').state).toBe('cut')
    store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
