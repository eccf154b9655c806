/** The console: sign-in, then Tasks, Processes, Dashboard and Declare, routed by the URL's hash (#/tasks, #/instances/123...). */
import { ApiError, call, storedToken, storeToken, type Me } from './api'
import { dashboardPage } from './dashboard'
import { declarePage } from './declare'
import { alertBox, fill, h } from './dom'
import { language, LANGUAGES, storedLanguage, t, useLanguage, type Language } from './i18n'
import { instancePage, processesPage } from './processes'
import { isRecordKind, recordPage, recordsPage, requestableKinds } from './records'
import { requestPage } from './requests'
import { taskPage, tasksPage } from './tasks'
import { useTimeZone } from './time'

const main = document.getElementById('main') as HTMLElement
let me: Me | undefined
/** Pages that poll register their stop here; a new route stops them. */
let stopPage: (() => void) | undefined

/** The banner's texts that are in the HTML page itself, before the script runs. */
function translateShell(): void {
  document.documentElement.lang = language()
  const skip = document.querySelector('.skip-link')
  if (skip) skip.textContent = t('shell.skip')
  const brand = document.querySelector('.brand a')
  if (brand) brand.textContent = t('shell.brand')
  document.getElementById('nav')?.setAttribute('aria-label', t('shell.mainNav'))
}

/** Français | English: the choice is remembered in this browser and wins over the organisation's language. */
function showLanguageSwitch(): void {
  const holder = document.getElementById('language') as HTMLElement
  const names: Record<Language, string> = { fr: 'Français', en: 'English' }
  fill(holder, h('div', { class: 'language-switch', role: 'group', 'aria-label': t('shell.language') },
    LANGUAGES.map((code) => h('button', {
      type: 'button',
      lang: code,
      class: 'link-button',
      'aria-pressed': String(code === language()),
      onclick: () => {
        useLanguage(code, true)
        void route()
      },
    }, names[code]))))
}

function signInPage(message?: string): void {
  document.title = `${t('signIn.title')} · ${t('shell.brand')}`
  const error = h('div', { id: 'sign-in-error' }, message ? alertBox(message) : null)
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help sign-in-error' })
  const form = h('form', { class: 'sign-in', onsubmit: (event: Event) => {
    event.preventDefault()
    void signIn(input.value.trim(), error)
  } },
  h('h1', {}, t('signIn.title')),
  h('p', { id: 'token-help' }, t('signIn.help')),
  h('label', { for: 'token' }, t('signIn.token')),
  input,
  error,
  h('button', { type: 'submit' }, t('signIn.submit')))
  fill(main, form)
  input.focus()
}

async function signIn(token: string, error: HTMLElement): Promise<void> {
  try {
    me = await call<Me>('GET', '/me', undefined, token)
  } catch (failure) {
    const refused = failure instanceof ApiError && failure.status === 401
    fill(error, alertBox(refused ? t('signIn.refused') : t('signIn.failed', { message: (failure as Error).message })))
    return
  }
  storeToken(token)
  location.hash = '#/tasks'
  await route()
}

function signOut(): void {
  storeToken(null)
  me = undefined
  location.hash = ''
  void route()
}

function showSession(session: Me | undefined): void {
  const nav = document.getElementById('nav') as HTMLElement
  const who = document.getElementById('who') as HTMLElement
  if (!session) {
    nav.hidden = true
    fill(who)
    return
  }
  useTimeZone(session.organisation.timeZone)
  const current = location.hash.split('/')[1]?.split('?')[0] ?? 'tasks'
  const link = (href: string, label: string, section: string) =>
    h('li', {}, h('a', { href, 'aria-current': current === section ? 'page' : null }, label))
  fill(nav, h('ul', {},
    link('#/tasks', t('nav.tasks'), 'tasks'),
    link('#/records/incidents', t('nav.records'), 'records'),
    session.may.viewProcesses ? link('#/processes', t('nav.processes'), 'processes') : null,
    session.may.viewDashboard ? link('#/dashboard', t('nav.dashboard'), 'dashboard') : null,
    session.may.declareIncident ? link('#/declare', t('nav.declare'), 'declare') : null,
    // The outbox is drawn by the server: it is told the language chosen here.
    session.links.outbox ? h('li', {}, h('a', { href: `${session.links.outbox}?lang=${language()}` }, t('nav.outbox'))) : null,
    session.links.status ? h('li', {}, h('a', { href: session.links.status }, t('nav.status'))) : null,
    h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: signOut }, t('nav.signOut')))))
  nav.hidden = false
  fill(who, t('shell.who', { name: session.name, organisation: session.organisation.name, roles: session.roles.map((role) => t(`shell.roles.${role}`, { defaultValue: role })).join(', '), timeZone: session.organisation.timeZone }))
}

/**
 * Routes are drawn one after the other: a page still loading when the user signs out or moves on
 * must not land on screen after the newer one.
 */
let routing: Promise<void> = Promise.resolve()

function route(): Promise<void> {
  routing = routing.then(drawRoute, drawRoute)
  return routing
}

async function drawRoute(): Promise<void> {
  stopPage?.()
  stopPage = undefined
  const token = storedToken()
  if (!token) {
    translateShell()
    showLanguageSwitch()
    showSession(undefined)
    return signInPage()
  }
  if (!me) {
    try {
      me = await call<Me>('GET', '/me')
    } catch (failure) {
      storeToken(null)
      translateShell()
      showLanguageSwitch()
      showSession(undefined)
      return signInPage(failure instanceof ApiError && failure.status === 401 ? t('signIn.expired') : (failure as Error).message)
    }
  }
  useLanguage(storedLanguage() ?? me.organisation.language)
  translateShell()
  showLanguageSwitch()
  showSession(me)
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(Boolean)
  try {
    if (parts[0] === 'tasks' && parts[1]) stopPage = await taskPage(main, me, parts[1])
    else if (parts[0] === 'processes' && me.may.viewProcesses) await processesPage(main, new URLSearchParams(query))
    else if (parts[0] === 'instances' && parts[1] && me.may.viewProcesses) stopPage = await instancePage(main, parts[1])
    else if (parts[0] === 'dashboard' && me.may.viewDashboard) stopPage = await dashboardPage(main)
    else if (parts[0] === 'declare' && me.may.declareIncident) await declarePage(main, me)
    else if (parts[0] === 'records' && isRecordKind(parts[1]) && parts[2]) await recordPage(main, me, parts[1], decodeURIComponent(parts[2]))
    else if (parts[0] === 'records' && isRecordKind(parts[1])) await recordsPage(main, me, parts[1], new URLSearchParams(query))
    else if (parts[0] === 'new' && isRecordKind(parts[1]) && parts[1] !== 'incidents' && requestableKinds(me).includes(parts[1])) await requestPage(main, me, parts[1])
    else await tasksPage(main, me, new URLSearchParams(query))
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return signOut()
    fill(main, h('h1', {}, t('errors.somethingWrong')), alertBox((failure as Error).message))
  }
  main.focus()
}

window.addEventListener('hashchange', () => void route())
void route()
