/** The crisis cell's calendar invitation, as each organisation's members read it. */
import { organisation } from '../../src/config'
import type { CutRecord } from '../../src/app/cuts/cut-store'
import { meetingInvitation, planMeeting } from '../../workers/send-cut-notification'
import { exampleConfig, NOW } from './fixtures'

const cut: CutRecord = {
  id: 'CUT-20250314-7f3a',
  interconnectionId: 'beta-prod',
  service: 'payments-beta',
  environment: 'production',
  otherParty: 'provider-beta',
  origin: 'self',
  reason: 'suspected intrusion',
  requestedBy: 'Camille Martin',
  state: 'cut',
  requestedAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
}

/** The .ics text with its folded lines joined again and its text escapes undone (RFC 5545 §3.1, §3.3.11). */
function unfolded(content: string | Buffer): string {
  return content.toString().replace(/\r\n[ \t]/g, '').replace(/\\([,;\\])/g, '$1')
}

describe('CRI-1, CRI-2: the crisis-cell invitation (.ics)', () => {
  const config = exampleConfig()
  const meeting = planMeeting(cut, undefined, 'P2D', NOW)

  test('CRI-1: a French organisation reads its title and deadline in French, in its own time zone', () => {
    const ics = unfolded(meetingInvitation(config, cut, meeting, 'Paiements', organisation(config, 'portail')).content)
    expect(ics).toContain(`SUMMARY:Cellule de crise ${cut.id} – Paiements (beta-prod)`)
    // 2025-03-16T09:00Z is 10:00 in Paris
    expect(ics).toContain('À tenir au plus tard le dimanche 16 mars 2025 à 10:00 UTC+1')
    expect(ics).not.toMatch(/DESCRIPTION:.*\d{4}-\d{2}-\d{2}T/)
  })

  test('CRI-1: an English organisation reads them in English, in its own time zone, for the same event', () => {
    const fr = unfolded(meetingInvitation(config, cut, meeting, 'Payments', organisation(config, 'portail')).content)
    const en = unfolded(meetingInvitation(config, cut, meeting, 'Payments', organisation(config, 'provider-beta')).content)
    expect(en).toContain(`SUMMARY:Crisis cell ${cut.id} – Payments (beta-prod)`)
    expect(en).toContain('To be held by Sunday, 16 March 2025 at 09:00 GMT')
    const uid = (ics: string) => /UID:(.*)/.exec(ics)?.[1]
    expect(uid(en)).toBe(uid(fr))
  })
})
