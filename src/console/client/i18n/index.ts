/**
 * The console's one i18next instance, French and English. The language is the user's choice,
 * remembered in this browser; until they choose, their organisation's language; before sign-in,
 * the browser's.
 */
import i18next from 'i18next'
import en from './en.json'
import fr from './fr.json'

export const LANGUAGES = ['fr', 'en'] as const
export type Language = (typeof LANGUAGES)[number]

const CHOICE_KEY = 'raccord.console.language'

export const i18n = i18next.createInstance()

void i18n.init({
  resources: { fr: { translation: fr }, en: { translation: en } },
  lng: storedLanguage() ?? browserLanguage(),
  fallbackLng: 'en',
  // Texts are put in the DOM as text nodes, never as HTML: nothing to escape.
  interpolation: { escapeValue: false },
  initAsync: false,
  showSupportNotice: false,
})

export const t = i18n.t.bind(i18n)

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value)
}

export function language(): Language {
  return isLanguage(i18n.language) ? i18n.language : 'en'
}

/** What the user chose in this browser, if they did. */
export function storedLanguage(): Language | undefined {
  const stored = localStorage.getItem(CHOICE_KEY)
  return isLanguage(stored) ? stored : undefined
}

function browserLanguage(): Language {
  return navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en'
}

/** Switches the texts and <html lang>; `remember` keeps the choice for the next visits. */
export function useLanguage(next: Language, remember = false): void {
  if (remember) localStorage.setItem(CHOICE_KEY, next)
  void i18n.changeLanguage(next)
  document.documentElement.lang = next
}
