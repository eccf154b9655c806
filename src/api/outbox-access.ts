/**
 * /outbox and /outbox.json show the signed links mailed to each party, so they need a credential
 * like /api: a bearer token, or HTTP Basic with the token as password so that a browser can ask
 * for it. Each organisation sees only the mails addressed to one of its people or teams; the
 * admin of the installation's own organisation sees them all.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestHandler, Response } from 'express'
import type { Config } from '../config'
import { personsOf } from '../config/identities'
import type { StoredMail } from '../notify/smtp-sink'
import type { Credential } from './auth'

const digest = (value: string) => createHash('sha256').update(value).digest()

/** The token of a Bearer header, or the password of a Basic one. */
function presentedToken(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (bearer !== null) return bearer[1]
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header)
  if (basic === null) return undefined
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

/** Sets `res.locals.caller`, or answers 401 with a Basic challenge a browser understands. */
export function outboxAuthentication(credentials: readonly Credential[]): RequestHandler {
  const known = credentials.filter((credential) => credential.token !== '').map((credential) => ({ credential, digest: digest(credential.token) }))
  return (req, res, next) => {
    const token = presentedToken(req.get('authorization') ?? '')
    const presented = token === undefined ? undefined : digest(token)
    // Compared with every token in constant time, as /api does.
    const found = presented === undefined ? undefined : known.reduce<Credential | undefined>((hit, candidate) => (timingSafeEqual(candidate.digest, presented) ? candidate.credential : hit), undefined)
    if (found === undefined) {
      res.status(401).set('WWW-Authenticate', 'Basic realm="raccord outbox", charset="UTF-8"').type('application/problem+json').json({
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: token === undefined ? 'The outbox needs a credential: a bearer token, or Basic with the token as password' : 'Unknown token',
        instance: req.originalUrl,
      })
      return
    }
    res.locals.caller = found
    next()
  }
}

/** Whether a mail is addressed to one of the caller's organisation's people or teams (or the caller is the installation's admin). */
export function mailVisibleTo(config: Config, res: Response): (mail: StoredMail) => boolean {
  const caller = res.locals.caller as Credential
  if (caller.roles.includes('admin') && caller.organisation === config.self) return () => true
  const org = config.organisations.find((candidate) => candidate.id === caller.organisation)
  const addresses = new Set([org?.contacts.operations.email, ...personsOf(config, caller.organisation).map((person) => person.email)].filter((email): email is string => email !== undefined).map((email) => email.toLowerCase()))
  return (mail) => [...mail.to, ...mail.cc, ...mail.envelopeTo].some((recipient) => (recipient.match(/[^\s<>,"]+@[^\s<>,"]+/g) ?? []).some((email) => addresses.has(email.toLowerCase())))
}

/** The language and time zone the outbox pages speak to the caller: its organisation's. */
export function outboxReader(config: Config, res: Response): { lang: 'fr' | 'en'; timeZone: string } {
  const caller = res.locals.caller as Credential
  const org = config.organisations.find((candidate) => candidate.id === caller.organisation)
  return { lang: org?.language ?? 'en', timeZone: org?.timeZone ?? 'UTC' }
}
