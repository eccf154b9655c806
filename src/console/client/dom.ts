/** Elements built from data, never from HTML strings: text is always text. */

type Child = Node | string | number | null | undefined | false | Child[]
type AttributeValue = string | number | boolean | null | undefined | ((event: Event) => void)

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, AttributeValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value))
  }
  append(element, children)
  return element
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child)
    else if (child instanceof Node) parent.appendChild(child)
    else if (child !== null && child !== undefined && child !== false) parent.appendChild(document.createTextNode(String(child)))
  }
}

/** Replaces the content of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, children)
}

/** Tells screen readers what just happened, without moving focus. */
export function announce(message: string): void {
  const announcer = document.getElementById('announcer')
  if (announcer) announcer.textContent = message
}

/** A problem (RFC 9457) or any error, as an alert. */
export function alertBox(message: string): HTMLElement {
  return h('p', { class: 'alert', role: 'alert' }, message)
}
