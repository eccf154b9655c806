/** The texts raccord writes into a procedure read in the language of the organisation that asks. */
import { generatedDate, generatedTexts } from '../../src/app/changes/generated-texts'
import { fixChange } from '../../src/app/changes/changes'
import { exampleConfig } from '../workers/fixtures'

const config = exampleConfig()

test('PRD-4, CHG-1: a French party reads French titles, an English party English ones', () => {
  expect(generatedTexts(config, 'fournisseur-alpha').opening('Démarches')).toBe('Ouverture de Démarches')
  expect(generatedTexts(config, 'provider-beta').opening('Payments')).toBe('Opening of Payments')
  expect(generatedTexts(config, 'fournisseur-alpha').preproductionLink('reactivate', 'alpha-preprod')).toBe('Réactivation du raccordement de pré-production alpha-preprod')
  expect(generatedTexts(config, 'provider-beta').preproductionLink('keep', 'beta-preprod')).toBe('Keep the pre-production link beta-preprod')
})

test('an unknown organisation reads this installation\'s language', () => {
  expect(generatedTexts(config, 'nobody').opening('X')).toBe('Ouverture de X')
})

test('SEC-2: the change carrying a fix is written in this installation\'s language, its deadline a date for people', () => {
  const change = fixChange(config, { vulnerabilityId: 'VUL-1', cveId: 'CVE-2024-3094', title: 'xz-utils', service: 'portail-web', severity: 'critical', remediationDueAt: '2025-03-16T09:00:00Z', reportedAt: '2025-03-14T09:00:00Z' })
  if (!change.startable) throw new Error(change.reason)
  expect(change.variables.title).toBe('Correctif de sécurité : xz-utils')
  expect(change.variables.description).toContain('Vulnérabilité VUL-1 (CVE-2024-3094), gravité critical. À corriger avant le 16 mars 2025')
  expect(generatedDate(config, '2025-03-16T09:00:00Z', 'provider-beta')).toBe('16 March 2025 at 09:00')
})
