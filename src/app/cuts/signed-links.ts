/**
 * Acknowledgement links sent to the other party (CUT-3): HMAC-SHA256 signed, expiring, and
 * single-use (the cut store remembers each used nonce). The other party has no account here, so
 * the link itself is the credential: anything unsigned, altered, expired or replayed is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'

/** What a link lets its holder do. */
export const LINK_PURPOSES = ['acknowledge-cut', 'confirm-cut', 'confirm-restore'] as const
export type LinkPurpose = (typeof LINK_PURPOSES)[number]

/** What a link carries, signed. */
export interface LinkClaims {
  cutId: string
  purpose: LinkPurpose
  /** the organisation the link was sent to */
  party: string
  /** expiry, epoch ms */
  exp: number
  /** makes each link unique; its use is recorded */
  nonce: string
}

const claimsSchema = z.strictObject({
  cutId: z.string().min(1),
  purpose: z.enum(LINK_PURPOSES),
  party: z.string().min(1),
  exp: z.number().int(),
  nonce: z.string().min(8),
})

/** Why a link was refused. */
export type LinkRefusal = 'forged' | 'expired'

export class LinkRefusedError extends Error {
  override name = 'LinkRefusedError'
  constructor(readonly reason: LinkRefusal) {
    super(reason === 'forged' ? 'The link is not one raccord signed' : 'The link has expired')
  }
}

/** Below this, a secret is too easy to guess. */
const MIN_SECRET_BYTES = 16

export class LinkSigner {
  private readonly key: Buffer

  constructor(secret: string) {
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new Error(`The link secret must be at least ${MIN_SECRET_BYTES} bytes long`)
    this.key = Buffer.from(secret)
  }

  /** A token for a URL path: base64url(claims).base64url(hmac). */
  sign(claims: Omit<LinkClaims, 'nonce'> & { nonce?: string }): string {
    const full: LinkClaims = { ...claims, nonce: claims.nonce ?? randomBytes(12).toString('base64url') }
    const body = Buffer.from(JSON.stringify(full)).toString('base64url')
    return `${body}.${this.mac(body)}`
  }

  /** The claims of a genuine, unexpired token. Throws LinkRefusedError. Says nothing of its use. */
  verify(token: string, now: Date): LinkClaims {
    const [body, mac, ...rest] = token.split('.')
    if (body === undefined || mac === undefined || rest.length > 0) throw new LinkRefusedError('forged')
    const expected = Buffer.from(this.mac(body))
    const presented = Buffer.from(mac)
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw new LinkRefusedError('forged')
    let claims: LinkClaims
    try {
      claims = claimsSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')))
    } catch {
      throw new LinkRefusedError('forged')
    }
    if (claims.exp <= now.getTime()) throw new LinkRefusedError('expired')
    return claims
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url')
  }
}
