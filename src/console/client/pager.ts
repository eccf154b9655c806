/** The pages of a list the server pages: "1–20 of 57", then previous and next. */
import { h } from './dom'
import { t } from './i18n'

export interface Paged {
  total: number
  offset: number
  limit: number
  items: readonly unknown[]
}

/** The count, said to screen readers when it changes. */
export function pageCount(page: Paged, testId: string): HTMLElement {
  const first = page.total === 0 ? 0 : page.offset + 1
  return h('p', { 'aria-live': 'polite', 'data-testid': testId }, t('records.count', { first, last: page.offset + page.items.length, total: page.total }))
}

/** Previous and next, each only when there is such a page; `go` moves to an offset. */
export function pager(page: Paged, go: (offset: number) => void): HTMLElement {
  const last = page.offset + page.items.length
  return h('nav', { class: 'pager', 'aria-label': t('records.pages') },
    page.offset > 0 ? h('button', { type: 'button', class: 'link-button', onclick: () => go(Math.max(0, page.offset - page.limit)) }, t('records.previous')) : null,
    last < page.total ? h('button', { type: 'button', class: 'link-button', onclick: () => go(page.offset + page.limit) }, t('records.next')) : null)
}
