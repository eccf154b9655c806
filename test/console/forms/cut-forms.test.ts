/**
 * The forms of an interconnection cut, in Chromium, each branch, signed in as who must act: the
 * link cut and restored by hand (CUT-2), the other party phoned when it does not answer (CUT-3), and
 * the crisis meeting where each member gives their own party's decision as themselves (CRI-2, CRI-3).
 */
import { formKit, type TokenName } from './form-kit'

const kit = formKit()
const MINUTES = 60_000

interface Cut { id: string; processInstanceKey: string }
interface TrailEntry { event: string; actor: string; detail: Record<string, unknown> }

/** The client's operations team requests the cut of Alpha's production link in the console. */
function cut(reason: string): Promise<Cut> {
  return kit.requestInBrowser('RACCORD_TOKEN_OPERATOR', 'cuts', async (page) => {
    await page.getByLabel('Interconnection').selectOption('alpha-prod')
    await page.getByLabel('Reason').fill(reason)
  })
}

async function trail(cutId: string): Promise<TrailEntry[]> {
  const view = await kit.api<{ timeline?: TrailEntry[] }>('GET', `/api/cuts/${cutId}`, 'RACCORD_TOKEN_OPERATOR')
  return view.body.timeline ?? []
}

const meeting = (decision: 'restore' | 'keep-cut') => ({
  heldAt: new Date(Date.now() - 10 * MINUTES).toISOString(),
  attendees: 'Camille Martin, Dominique Bernard, Sacha Durand, Morgan Leroy',
  causes: 'Jeton d\'accès divulgué dans un ticket',
  restorationTerms: 'Jetons renouvelés des deux côtés',
  decision,
})

/** A member gives their party's decision in the console; the trail shows it under their name. */
async function decide(token: TokenName, member: string, cutId: string, processInstanceKey: string, decision: 'restore' | 'keep-cut', completes: boolean): Promise<void> {
  const taken = async () => (await trail(cutId)).some((entry) => entry.event === 'crisis-agreement' && entry.actor === member && entry.detail.decision === decision)
  await kit.completeInBrowser(token, { processInstanceKey, elementId: 'hold-crisis-meeting' }, 'crisis-meeting-outcome', meeting(decision), completes ? {} : { taken })
}

test('CUT-2, CUT-3: cut-interconnection-by-hand, then phone-other-party twice (no acknowledgement, no confirmation): both sides are synchronised', async () => {
  // given
  const { processInstanceKey } = await cut('Jeton d\'accès divulgué')
  // when our side is cut by hand
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'cut-by-hand' }, 'cut-interconnection-by-hand',
    { cutAt: new Date(Date.now() - MINUTES).toISOString(), cutNotes: 'Règle de pare-feu 4012 désactivée' })
  // and the other party answers neither the warning nor the confirmation within the delay: it is phoned
  await kit.reached(processInstanceKey, 'await-acknowledgement')
  await kit.increaseTime(31 * MINUTES)
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'phone-other-party' }, 'phone-other-party',
    { reachedName: 'Alex Roux', reachedAt: new Date(Date.now()).toISOString(), callNotes: 'Avertissement reçu par téléphone' })
  await kit.reached(processInstanceKey, 'await-other-side-cut')
  await kit.increaseTime(31 * MINUTES)
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'chase-other-side-cut' }, 'phone-other-party',
    { reachedName: 'Alex Roux', reachedAt: new Date(Date.now()).toISOString() })
  // then
  await kit.reached(processInstanceKey, 'record-synchronisation')
})

test('CRI-2, CRI-3: crisis-meeting-outcome, one party keeps the link cut: nothing is restored and the cell meets again', async () => {
  // given
  const { id, processInstanceKey } = await cut('Comportement suspect (gardé coupé)')
  await kit.completeByRest(processInstanceKey, 'cut-by-hand', { cutAt: new Date(Date.now() - MINUTES).toISOString(), completedBy: 'RACCORD_TOKEN_OPERATOR' })
  // when the client's member agrees to restore and the provider's member keeps it cut
  await decide('RACCORD_TOKEN_MANAGER', 'Camille Martin', id, processInstanceKey, 'restore', false)
  await decide('RACCORD_TOKEN_ALPHA_TECHNICAL', 'Sacha Durand', id, processInstanceKey, 'keep-cut', true)
  // then a new round is invited, and nothing was enabled
  await kit.reached(processInstanceKey, 'invite-crisis-cell', 2)
  const enabled = await kit.rest<{ items: unknown[] }>('POST', 'element-instances/search', { filter: { processInstanceKey, elementId: 'enable-interconnection' } })
  expect(enabled.items).toEqual([])
})

/** Opens each signed link of the newest mail to Alpha's operations team about `cutId` whose subject matches, and presses its button, as its reader would. */
async function answerLinks(cutId: string, subject: RegExp): Promise<number> {
  const { page } = kit
  let mail
  for (let attempt = 0; attempt < 300 && mail === undefined; attempt++) {
    mail = kit.smtp.list().filter((candidate) => candidate.to.includes('supervision@fournisseur-alpha.example.org') && candidate.subject.includes(cutId) && subject.test(candidate.subject)).pop()
    if (mail === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (mail === undefined) throw new Error(`No mail '${subject}' about ${cutId} to Alpha`)
  const links = [...mail.text.matchAll(/https?:\/\/\S+\/links\/[A-Za-z0-9._-]+/g)].map((match) => match[0])
  for (const link of links) {
    await page.goto(link)
    await page.locator('form[method="post"] button').click()
    await page.locator('.done, .refusal').first().waitFor()
  }
  return links.length
}

test('CUT-1..3, CRI-1..3: a cut from the browser alone: requested and cut in the console, the other party answering its mail\'s links, the cell agreeing member by member, restored by hand, the restoration confirmed by link', async () => {
  // given the client's operations team requests the cut in the console and cuts its side
  const { id, processInstanceKey } = await cut('Comportement suspect (rétabli)')
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'cut-by-hand' }, 'cut-interconnection-by-hand',
    { cutAt: new Date(Date.now() - MINUTES).toISOString(), cutNotes: 'Règle 4012 désactivée' })
  // when Fournisseur Alpha acknowledges and confirms its side from the links of its mail, in the browser
  await kit.reached(processInstanceKey, 'await-acknowledgement')
  expect(await answerLinks(id, /couper/)).toBe(2)
  await kit.reached(processInstanceKey, 'record-synchronisation')
  // when each party's member agrees, each signed in as themselves
  const task = await kit.userTask(processInstanceKey, 'hold-crisis-meeting')
  expect(task.candidateUsers).toEqual(expect.arrayContaining(['camille.martin@portail.example.org', 'sacha.durand@fournisseur-alpha.example.org']))
  expect(await kit.listsTask('RACCORD_TOKEN_BETA_TECHNICAL', task.userTaskKey)).toBe(false)
  await decide('RACCORD_TOKEN_MANAGER', 'Camille Martin', id, processInstanceKey, 'restore', false)
  await decide('RACCORD_TOKEN_ALPHA_TECHNICAL', 'Sacha Durand', id, processInstanceKey, 'restore', true)
  // then the link is restored by hand on our side
  await kit.completeInBrowser('RACCORD_TOKEN_OPERATOR', { processInstanceKey, elementId: 'restore-by-hand' }, 'restore-interconnection-by-hand',
    { restoredAt: new Date(Date.now()).toISOString(), restoreNotes: 'Règle 4012 réactivée, jetons renouvelés' })
  await kit.reached(processInstanceKey, 'request-restore-confirmation')
  expect(await kit.variable(processInstanceKey, 'providerDecidedBy')).toBe('Sacha Durand')
  expect(await kit.variable(processInstanceKey, 'clientDecidedBy')).toBe('Camille Martin')
  // and Fournisseur Alpha confirms its side restored from the link of its mail
  expect(await answerLinks(id, /rétabl/i)).toBe(1)
  let state = ''
  for (let attempt = 0; attempt < 300 && state !== 'restored'; attempt++) {
    state = (await kit.api<{ state: string }>('GET', `/api/cuts/${id}`, 'RACCORD_TOKEN_OPERATOR')).body.state
    if (state !== 'restored') await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(state).toBe('restored')
})
