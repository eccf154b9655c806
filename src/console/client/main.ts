/** The console: sign-in, then Tasks, Processes and Declare, routed by the URL's hash (#/tasks, #/instances/123...). */
import { ApiError, call, storedToken, storeToken, type Me } from './api'
import { declarePage } from './declare'
import { alertBox, fill, h } from './dom'
import { instancePage, processesPage } from './processes'
import { taskPage, tasksPage } from './tasks'
import { useTimeZone } from './time'

const main = document.getElementById('main') as HTMLElement
let me: Me | undefined
/** Pages that poll register their stop here; a new route stops them. */
let stopPage: (() => void) | undefined

function signInPage(message?: string): void {
  document.title = 'Sign in · raccord console'
  const error = h('div', { id: 'sign-in-error' }, message ? alertBox(message) : null)
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help sign-in-error' })
  const form = h('form', { class: 'sign-in', onsubmit: (event: Event) => {
    event.preventDefault()
    void signIn(input.value.trim(), error)
  } },
  h('h1', {}, 'Sign in'),
  h('p', { id: 'token-help' }, 'Use the bearer token your administrator gave you (one of the tokens named in api.tokens of the configuration). It is kept in this browser tab only.'),
  h('label', { for: 'token' }, 'Access token'),
  input,
  error,
  h('button', { type: 'submit' }, 'Sign in'))
  fill(main, form)
  input.focus()
}

async function signIn(token: string, error: HTMLElement): Promise<void> {
  try {
    me = await call<Me>('GET', '/me', undefined, token)
  } catch (failure) {
    const refused = failure instanceof ApiError && failure.status === 401
    fill(error, alertBox(refused ? 'This token is not accepted. Check it and try again.' : `Cannot sign in: ${(failure as Error).message}`))
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
  const current = location.hash.split('/')[1] ?? 'tasks'
  const link = (href: string, label: string, section: string) =>
    h('li', {}, h('a', { href, 'aria-current': current === section ? 'page' : null }, label))
  fill(nav, h('ul', {},
    link('#/tasks', 'Tasks', 'tasks'),
    session.may.viewProcesses ? link('#/processes', 'Processes', 'processes') : null,
    session.may.declareIncident ? link('#/declare', 'Declare an incident', 'declare') : null,
    session.links.outbox ? h('li', {}, h('a', { href: session.links.outbox }, 'Outbox')) : null,
    session.links.status ? h('li', {}, h('a', { href: session.links.status }, 'Status')) : null,
    h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out'))))
  nav.hidden = false
  fill(who, `${session.name} · ${session.organisation.name} (${session.roles.join(', ')}) · times in ${session.organisation.timeZone}`)
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
    showSession(undefined)
    return signInPage()
  }
  if (!me) {
    try {
      me = await call<Me>('GET', '/me')
    } catch (failure) {
      storeToken(null)
      showSession(undefined)
      return signInPage(failure instanceof ApiError && failure.status === 401 ? 'Your token is no longer accepted. Sign in again.' : (failure as Error).message)
    }
  }
  showSession(me)
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(Boolean)
  try {
    if (parts[0] === 'tasks' && parts[1]) stopPage = await taskPage(main, me, parts[1])
    else if (parts[0] === 'processes' && me.may.viewProcesses) await processesPage(main, new URLSearchParams(query))
    else if (parts[0] === 'instances' && parts[1] && me.may.viewProcesses) stopPage = await instancePage(main, parts[1])
    else if (parts[0] === 'declare' && me.may.declareIncident) await declarePage(main, me)
    else await tasksPage(main, me)
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return signOut()
    fill(main, h('h1', {}, 'Something went wrong'), alertBox((failure as Error).message))
  }
  main.focus()
}

window.addEventListener('hashchange', () => void route())
void route()
