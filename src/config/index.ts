export { loadConfig, ConfigError, DEFAULT_CONFIG_FILE, formatPath, type ConfigProblem } from './load-config'
export { organisation, selfOrganisation, otherParties, contactsFor, UnknownOrganisationError, type ContactRole, type ContactOf } from './parties'
export {
  configSchema,
  type Config,
  type Organisation,
  type Contact,
  type OperationsTeam,
  type Contacts,
  type Interconnection,
  type Service,
  type ApiToken,
  type ChangesConfig,
  type AdapterName,
  type ApiRole,
  type Language,
  type InterconnectionCutsConfig,
} from './schema'
