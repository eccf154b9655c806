/** Typed access to the element tree bpmn-moddle builds: its elements carry untyped properties. */

/** A parsed moddle element; its properties are read through the typed accessors below. */
export interface ModdleElement {
  readonly $type: string
  readonly $parent?: ModdleElement
  readonly [key: string]: unknown
}

export function isElement(value: unknown): value is ModdleElement {
  return typeof value === 'object' && value !== null && typeof (value as { $type?: unknown }).$type === 'string'
}

export function str(item: ModdleElement | undefined, key: string): string | undefined {
  const value = item?.[key]
  return typeof value === 'string' ? value : undefined
}

export function ref(item: ModdleElement | undefined, key: string): ModdleElement | undefined {
  const value = item?.[key]
  return isElement(value) ? value : undefined
}

export function elements(item: ModdleElement | undefined, key: string): ModdleElement[] {
  const value = item?.[key]
  return Array.isArray(value) ? value.filter(isElement) : []
}

export function extensions(item: ModdleElement | undefined, type: string): ModdleElement[] {
  return elements(ref(item, 'extensionElements'), 'values').filter((value) => value.$type === type)
}

export function extension(item: ModdleElement | undefined, type: string): ModdleElement | undefined {
  return extensions(item, type)[0]
}

/** Text of an expression element (condition, timer, completion condition); undefined when blank. */
export function body(item: ModdleElement | undefined): string | undefined {
  return trimmed(str(item, 'body'))
}

export function trimmed(value: string | undefined): string | undefined {
  const text = value?.trim()
  return text === undefined || text === '' ? undefined : text
}

/** "bpmn:ComplexGateway" -> "complexGateway", as Zeebe names element types in its messages. */
export function localName(type: string): string {
  const name = type.slice(type.indexOf(':') + 1)
  return name.charAt(0).toLowerCase() + name.slice(1)
}
