/**
 * The fields of each kind of record that the engine's indexes are built from at start (due
 * timers, jobs by type, subscriptions by correlation key, records by process instance...). A
 * checkpoint stores them in columns f1..f5 of the record's row, beside its JSON, so that a start
 * reads them as plain values, without parsing a single record. Changing a list here needs a
 * schema version that fills the columns again.
 */
export const INDEX_FIELDS: Readonly<Record<string, readonly string[]>> = {
  instance: ['parentProcessInstanceKey', 'state'],
  element: ['processInstanceKey', 'scopeKey', 'lifecycle'],
  job: ['processInstanceKey', 'state', 'deadline', 'recurAt', 'type'],
  timer: ['dueDate'],
  message: ['expiresAt'],
  messageSubscription: ['messageName', 'correlationKey', 'tenantId'],
  signalSubscription: ['signalName'],
  incident: ['processInstanceKey'],
  userTask: ['processInstanceKey'],
  batch: [],
  compensation: [],
  decisionInstance: ['processInstanceKey'],
  // (the rest for searches: every variable listed without reading its value)
  variable: ['scopeKey', 'name', 'processInstanceKey', 'tenantId'],
}

/** The columns that hold them, in the order of each list. */
export const FIELD_COLUMNS = ['f1', 'f2', 'f3', 'f4', 'f5'] as const

/** A field's value as a column holds it. */
export type FieldValue = string | number | null

const NO_FIELDS: readonly FieldValue[] = []

/** The values of a record's index fields, in column order (null when absent). */
export function fieldValues(kind: string, record: object): readonly FieldValue[] {
  const names = INDEX_FIELDS[kind] as readonly string[] | undefined
  if (!names || names.length === 0) return NO_FIELDS
  const values = record as Record<string, unknown>
  return names.map((name) => {
    const value = values[name]
    return typeof value === 'string' || typeof value === 'number' ? value : null
  })
}

/** SQL that fills the columns from the rows' JSON (rows written before the columns existed), of every kind or of `only`. */
export function fillFieldColumns(only?: string): string[] {
  return Object.entries(INDEX_FIELDS).filter(([kind, names]) => names.length > 0 && (only === undefined || kind === only)).map(([kind, names]) => {
    const sets = names.map((name, i) => `${FIELD_COLUMNS[i]} = json ->> '${name}'`).join(', ')
    return `UPDATE live SET ${sets} WHERE kind = '${kind}'`
  })
}
