/**
 * Bearer tokens from the configuration (`api.tokens`): each names the environment variable holding
 * it, the roles it grants and its organisation. No token, or an unknown one, is a 401; a known
 * token without the role is a 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestHandler, Response } from 'express'
import type { ApiRole, Config } from '../config'
import { identityOf } from '../config/identities'
import type { Caller } from '../app/incidents/incidents'
import { ForbiddenProblem, UnauthorizedProblem } from './problem'

/** A token the API accepts. */
export interface Credential extends Caller {
  token: string
  roles: ApiRole[]
}

/** The tokens named by the configuration, read from `env`; loadConfig has checked each is set. */
export function credentialsFrom(config: Config, env: NodeJS.ProcessEnv): Credential[] {
  return config.api.tokens.map((entry) => {
    const identity = identityOf(config, entry)
    return {
      name: entry.tokenEnv,
      organisation: entry.organisation,
      actor: identity.actor,
      ...(identity.person === undefined ? {} : { person: identity.person }),
      roles: entry.roles,
      token: env[entry.tokenEnv] ?? '',
    }
  })
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Sets `res.locals.caller` from the Authorization header, or answers 401. */
export function authenticate(credentials: readonly Credential[]): RequestHandler {
  const known = credentials.filter((credential) => credential.token !== '').map((credential) => ({ credential, digest: digest(credential.token) }))
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')
    if (match === null) return next(new UnauthorizedProblem('Send a bearer token: Authorization: Bearer <token>'))
    const presented = digest(match[1])
    // Compare with every token, in constant time, so timing tells nothing about which one nearly matched.
    const found = known.reduce<Credential | undefined>((hit, candidate) => (timingSafeEqual(candidate.digest, presented) ? candidate.credential : hit), undefined)
    if (found === undefined) return next(new UnauthorizedProblem('Unknown bearer token'))
    res.locals.caller = found
    next()
  }
}

/** Lets through callers holding one of `roles`; others get a 403. */
export function requireRole(...roles: ApiRole[]): RequestHandler {
  return (_req, res, next) => {
    const caller = callerOf(res)
    if (!caller.roles.some((role) => roles.includes(role))) {
      return next(new ForbiddenProblem(`This needs one of the roles ${roles.join(', ')}; token ${caller.name} has ${caller.roles.join(', ')}`))
    }
    next()
  }
}

export function callerOf(res: Response): Credential {
  return res.locals.caller as Credential
}
