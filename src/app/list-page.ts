/**
 * One page of a list for people: `q` searches the record's words (id, title, service...), `state`
 * keeps one state, newest first (or oldest, for work to do), `limit` (1-200, default 50 or the
 * list's own) and `offset` page through it. A bad query is a 400 naming the parameter, as a bad
 * body is.
 */
import { z } from 'zod'

const querySchema = z.object({
  q: z.string().max(200).optional(),
  state: z.string().max(50).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
})

/** What a list searches and sorts on, for one record. */
export interface Listed {
  /** the words `q` matches, case- and accent-insensitive */
  words: ReadonlyArray<string | null | undefined>
  state?: string | null
  /** ISO 8601: the newest comes first */
  at: string
}

export interface ListPage<T> {
  items: T[]
  /** how many match, over all pages */
  total: number
  offset: number
  limit: number
}

const fold = (text: string) => text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase()

export function listPage<T>(items: readonly T[], req: { query: unknown }, describe: (item: T) => Listed, order: 'newest' | 'oldest' = 'newest', defaultLimit = 50): ListPage<T> {
  const given = (req.query ?? {}) as Record<string, unknown>
  const query = querySchema.parse(given.limit === undefined || given.limit === '' ? { ...given, limit: defaultLimit } : given, { error: (issue) => (issue.input === undefined ? 'Required' : undefined) })
  const needle = fold(query.q?.trim() ?? '')
  const matching = items
    .map((item) => ({ item, listed: describe(item) }))
    .filter(({ listed }) => query.state === undefined || query.state === '' || listed.state === query.state)
    .filter(({ listed }) => needle === '' || listed.words.some((word) => typeof word === 'string' && fold(word).includes(needle)))
    .sort((a, b) => (order === 'newest' ? b.listed.at.localeCompare(a.listed.at) : a.listed.at.localeCompare(b.listed.at)))
  return { items: matching.slice(query.offset, query.offset + query.limit).map(({ item }) => item), total: matching.length, offset: query.offset, limit: query.limit }
}
