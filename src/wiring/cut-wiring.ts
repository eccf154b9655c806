/**
 * Opens what interconnection cuts and the status page need at start-up: the cut trail, the status
 * store, the link signer and the link-control adapter. The public URL of the links is the
 * configured one, or the API's address once it listens.
 */
import type { Config } from '../config'
import { StatusStore } from '../status/status-store'
import type { CutServices } from '../app/cuts/cut-services'
import { CutStore } from '../app/cuts/cut-store'
import { linkControl } from '../app/cuts/link-control'
import { LinkSigner } from '../app/cuts/signed-links'
import { persistentSecret } from '../app/access/persistent-secret'

export interface InterconnectionCutsOptions {
  config: Config
  dataDir: string
  /** where webhook secrets are read */
  env: NodeJS.ProcessEnv
  /** the link-signing secret; absent, the one kept in the data dir (made on first start) signs the links */
  linkSecret?: string
  now?: () => Date
}

export interface InterconnectionCuts {
  cuts: CutServices
  status: StatusStore
  /** base URL of the links in mails and of the status page */
  publicUrl(): string
  /** tells the address the API listens on, used when the configuration names no publicUrl */
  listening(url: string): void
  close(): void
}

export function openInterconnectionCuts(options: InterconnectionCutsOptions): InterconnectionCuts {
  const { config } = options
  const now = options.now ?? (() => new Date())
  const store = CutStore.open(options.dataDir)
  let status: StatusStore
  try {
    status = StatusStore.open(options.dataDir)
  } catch (error) {
    store.close()
    throw error
  }
  let apiUrl = `http://127.0.0.1:${config.api.port}`
  const publicUrl = () => (config.interconnectionCuts.publicUrl ?? apiUrl).replace(/\/+$/, '')
  return {
    cuts: {
      store,
      links: new LinkSigner(options.linkSecret ?? persistentSecret(options.dataDir, 'link-secret')),
      linkControl: linkControl({ env: options.env, now }),
      settings: config.interconnectionCuts,
      publicUrl,
    },
    status,
    publicUrl,
    listening: (url) => {
      apiUrl = url
    },
    close: () => {
      status.close()
      store.close()
    },
  }
}
