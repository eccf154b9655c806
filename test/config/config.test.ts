import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { exampleTokens } from '../workers/fixtures'
import { ConfigError, contactsFor, loadConfig, organisation, otherParties, selfOrganisation, UnknownOrganisationError } from '../../src/config'

const EXAMPLE = resolve(__dirname, '../../raccord.config.example.yaml')
const TOKENS = exampleTokens()

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'raccord-config-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Writes the example config changed by `edit`, and returns its path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests break the shape on purpose
function exampleWith(edit: (config: any) => void): string {
  const config = parse(readFileSync(EXAMPLE, 'utf8'))
  edit(config)
  const file = join(dir, 'raccord.config.yaml')
  writeFileSync(file, stringify(config))
  return file
}

function configError(path: string | undefined, env: NodeJS.ProcessEnv = TOKENS): ConfigError {
  try {
    loadConfig(path, env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('the example configuration', () => {
  test('loads, with a client and two providers', () => {
    const config = loadConfig(EXAMPLE, TOKENS)
    expect(config.self).toBe('portail')
    expect(config.organisations.map((org) => [org.id, org.role])).toEqual([
      ['portail', 'client'],
      ['fournisseur-alpha', 'provider'],
      ['provider-beta', 'provider'],
    ])
    expect(config.api.port).toBe(3000)
  })

  test('raccord.config.yaml ships as a copy of the example', () => {
    expect(readFileSync(resolve(__dirname, '../../raccord.config.yaml'), 'utf8')).toBe(readFileSync(EXAMPLE, 'utf8'))
  })

  test('is read from RACCORD_CONFIG when no path is given', () => {
    expect(loadConfig(undefined, { ...TOKENS, RACCORD_CONFIG: EXAMPLE }).self).toBe('portail')
  })
})

describe('party helpers', () => {
  const config = loadConfig(EXAMPLE, TOKENS)

  test('organisation finds by id, and throws a typed error for an unknown one', () => {
    expect(organisation(config, 'provider-beta').language).toBe('en')
    expect(selfOrganisation(config).name).toBe('Portail citoyen')
    expect(() => organisation(config, 'nobody')).toThrow(UnknownOrganisationError)
  })

  test('otherParties lists every organisation but self', () => {
    expect(otherParties(config).map((org) => org.id)).toEqual(['fournisseur-alpha', 'provider-beta'])
  })

  test('contactsFor returns a list for single and multiple roles', () => {
    expect(contactsFor(config, 'provider-beta', 'operations')).toEqual([
      { name: 'Beta Service Desk', email: 'servicedesk@provider-beta.example.org', onCallPhone: '+33 1 00 00 02 01' },
    ])
    expect(contactsFor(config, 'portail', 'technicalLead').map((c) => c.email)).toEqual(['camille.martin@portail.example.org'])
    const receivers = contactsFor(config, 'fournisseur-alpha', 'traceRequestReceivers')
    expect(receivers[0]).toMatchObject({ name: 'Sacha Durand', function: 'Responsable technique' })
    expect(receivers[0]?.postalAddress).toContain('69000 Lyon')
  })
})

describe('configuration errors name the file, the key path and the reason', () => {
  test('missing file: names the path and how to point at another file', () => {
    const missing = join(dir, 'nowhere.yaml')
    const error = configError(missing)
    expect(error.message).toContain(`Configuration file not found: ${missing}`)
    expect(error.message).toContain('RACCORD_CONFIG')
  })

  test('missing default file: names raccord.config.yaml in the working directory', () => {
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      expect(configError(undefined, {}).message).toContain(join(dir, 'raccord.config.yaml'))
    } finally {
      process.chdir(cwd)
    }
  })

  test('malformed YAML: line and column', () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'self: portail\norganisations:\n  - id: [portail\n')
    const error = configError(file)
    expect(error.message).toMatch(/^Malformed YAML in /)
    expect(error.problems[0]?.line).toBeGreaterThanOrEqual(3)
    expect(error.message).toMatch(/line \d+, column \d+/)
  })

  test('duplicate YAML key: reported with its line', () => {
    const file = join(dir, 'dup.yaml')
    writeFileSync(file, 'self: portail\nself: other\n')
    expect(configError(file).message).toMatch(/Map keys must be unique.*\(line 2, column 1\)/)
  })

  test('missing key: its full path', () => {
    const file = exampleWith((config) => {
      delete config.organisations[1].contacts.technicalLead.email
    })
    const error = configError(file)
    expect(error.problems).toEqual([expect.objectContaining({ path: 'organisations[1].contacts.technicalLead.email', message: 'Required' })])
    expect(error.message).toContain('organisations[1].contacts.technicalLead.email: Required (line ')
  })

  test('bad email', () => {
    const file = exampleWith((config) => {
      config.organisations[1].contacts.technicalLead.email = 'sacha.durand.example.org'
    })
    expect(configError(file).message).toContain('organisations[1].contacts.technicalLead.email: Invalid email')
  })

  test('self is not an organisation id', () => {
    const file = exampleWith((config) => {
      config.self = 'portal'
    })
    expect(configError(file).message).toContain("self: Unknown organisation 'portal': expected one of portail, fournisseur-alpha, provider-beta")
  })

  test('duplicate organisation id', () => {
    const file = exampleWith((config) => {
      config.organisations[2].id = 'fournisseur-alpha'
    })
    expect(configError(file).message).toContain("organisations[2].id: Duplicate organisation id 'fournisseur-alpha'")
  })

  test('environment variable of a token not set', () => {
    const others = Object.fromEntries(Object.entries(TOKENS).filter(([name]) => name !== 'RACCORD_TOKEN_MANAGER'))
    const error = configError(EXAMPLE, others)
    expect(error.problems).toEqual([expect.objectContaining({ path: 'api.tokens[1].tokenEnv', message: 'Environment variable RACCORD_TOKEN_MANAGER is not set' })])
  })

  test('environment variable of a change adapter\'s webhook secret not set', () => {
    const file = exampleWith((config) => {
      config.changes.adapters.portalVersions = { type: 'webhook', url: 'https://portal.example.org/versions', secretEnv: 'PORTAL_ADAPTER_SECRET' }
    })
    expect(configError(file).message).toContain('changes.adapters.portalVersions.secretEnv: Environment variable PORTAL_ADAPTER_SECRET is not set')
    expect(loadConfig(file, { ...TOKENS, PORTAL_ADAPTER_SECRET: 's' }).changes.adapters.portalVersions).toEqual({
      type: 'webhook', url: 'https://portal.example.org/versions', secretEnv: 'PORTAL_ADAPTER_SECRET',
    })
  })

  test('environment variable of a webhook secret not set', () => {
    const file = exampleWith((config) => {
      config.organisations[2].interconnections[1].linkControl = { type: 'webhook', url: 'https://switch.example.org/beta', secretEnv: 'BETA_SWITCH_SECRET' }
    })
    expect(configError(file).message).toContain('organisations[2].interconnections[1].linkControl.secretEnv: Environment variable BETA_SWITCH_SECRET is not set')
    expect(loadConfig(file, { ...TOKENS, BETA_SWITCH_SECRET: 's' }).organisations[2]?.interconnections[1]?.linkControl).toEqual({
      type: 'webhook',
      url: 'https://switch.example.org/beta',
      secretEnv: 'BETA_SWITCH_SECRET',
    })
  })

  test('other references and values: time zone, roles, services, unknown keys, token organisation', () => {
    const file = exampleWith((config) => {
      config.organisations[0].timeZone = 'Europe/Pariss'
      config.organisations[1].role = 'client'
      config.organisations[1].interconnections[0].service = 'demarches-beta'
      config.organisations[2].contacts.operations.onCallPhone = '01 23 45 67 89'
      config.organisations[2].contacts.directors = []
      config.organisations[2].langage = 'en'
      config.api.tokens[0].organisation = 'nobody'
      config.api.tokens[1].tokenEnv = 'secret-value'
    })
    const paths = configError(file).problems.map((p) => p.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'organisations[0].timeZone',
        'organisations',
        'organisations[1].interconnections[0].service',
        'organisations[2].contacts.operations.onCallPhone',
        'organisations[2].contacts.directors',
        'organisations[2]',
        'api.tokens[0].organisation',
        'api.tokens[1].tokenEnv',
      ]),
    )
    expect(configError(file).message).toContain('organisations: Exactly one organisation must have role client, found 2')
    expect(configError(file).message).toContain('organisations[2]: Unrecognized key: "langage"')
  })

  test('every problem is listed at once', () => {
    const file = exampleWith((config) => {
      config.self = 'portal'
      config.organisations[1].contacts.technicalLead.email = 'nope'
      delete config.organisations[2].contacts.functionalLead
    })
    const error = configError(file, {})
    expect(error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'self',
        'organisations[1].contacts.technicalLead.email',
        'organisations[2].contacts.functionalLead',
        'api.tokens[0].tokenEnv',
        'api.tokens[1].tokenEnv',
        'api.tokens[2].tokenEnv',
        // Sam Wilson's token names the functional lead the file no longer has.
        'api.tokens[9].contact',
      ]),
    )
    // self, the email, the missing lead, the contact, and each of the example's token variables.
    expect(error.problems).toHaveLength(4 + Object.keys(TOKENS).length)
  })

  test('identities: a token names one person of its organisation, or one team', () => {
    const file = exampleWith((config) => {
      config.api.tokens[0].contact = 'camille.martin@portail.example.org' // and a team already
      delete config.api.tokens[3].team // neither
      config.api.tokens[4].contact = 'camille.martin@portail.example.org' // a person of another organisation
      delete config.api.tokens[4].team
      config.api.tokens[5].contact = 'nobody@fournisseur-alpha.example.org'
    })
    const problems = configError(file).problems
    expect(problems.map((p) => p.path)).toEqual(['api.tokens[0]', 'api.tokens[3]', 'api.tokens[4].contact', 'api.tokens[5].contact'])
    expect(problems[0].message).toContain('either contact (a person of the organisation, by email) or team')
    expect(problems[2].message).toContain("'camille.martin@portail.example.org' is not a contact of fournisseur-alpha")
  })

  test('an empty file says the keys are required', () => {
    const file = join(dir, 'empty.yaml')
    writeFileSync(file, '')
    expect(configError(file).message).toContain('Invalid input: expected object')
  })
})
