/**
 * The credentials the two-party tests sign in with: for each party of the example configuration,
 * a team, people, and roles that may or may not act. Provider Beta is the party unrelated to
 * Fournisseur Alpha's records; Morgan Leroy is Alpha's person whose role neither declares nor operates.
 */
import type { ApiToken } from '../../src/config'

export const PARTY_TOKENS = {
  P_OPS: 'party-portail-operations',
  P_CAMILLE: 'party-portail-camille',
  P_ADMIN: 'party-portail-admin',
  A_OPS: 'party-alpha-operations',
  A_SACHA: 'party-alpha-sacha',
  A_MORGAN: 'party-alpha-morgan',
  B_OPS: 'party-beta-operations',
  B_ADMIN: 'party-beta-admin',
} as const

export const PARTY_API_TOKENS: ApiToken[] = [
  { tokenEnv: 'P_OPS', roles: ['operator'], organisation: 'portail', team: 'operations' },
  { tokenEnv: 'P_CAMILLE', roles: ['operator', 'manager'], organisation: 'portail', contact: 'camille.martin@portail.example.org' },
  { tokenEnv: 'P_ADMIN', roles: ['admin'], organisation: 'portail', team: 'administration' },
  { tokenEnv: 'A_OPS', roles: ['operator'], organisation: 'fournisseur-alpha', team: 'operations' },
  { tokenEnv: 'A_SACHA', roles: ['operator', 'manager'], organisation: 'fournisseur-alpha', contact: 'sacha.durand@fournisseur-alpha.example.org' },
  // a person of a party, with a role that neither declares nor operates
  { tokenEnv: 'A_MORGAN', roles: ['manager'], organisation: 'fournisseur-alpha', contact: 'morgan.leroy@fournisseur-alpha.example.org' },
  // a party unrelated to Alpha's records
  { tokenEnv: 'B_OPS', roles: ['operator', 'manager'], organisation: 'provider-beta', team: 'operations' },
  // an admin of the unrelated party: its role passes, its organisation does not
  { tokenEnv: 'B_ADMIN', roles: ['admin'], organisation: 'provider-beta', team: 'administration' },
]
