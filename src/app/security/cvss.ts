/**
 * CVSS vectors as FIRST specifies them, v3.1 and v4.0: the syntax only (the score is given, not
 * computed), so that a report names a real vector and its version.
 */

/** Metric -> allowed values, in the order the specification requires the base metrics. */
type Metrics = ReadonlyArray<readonly [metric: string, values: string]>

const V31_BASE: Metrics = [
  ['AV', 'NALP'], ['AC', 'LH'], ['PR', 'NLH'], ['UI', 'NR'], ['S', 'UC'], ['C', 'HLN'], ['I', 'HLN'], ['A', 'HLN'],
]
const V31_OPTIONAL: Metrics = [
  ['E', 'XUPFH'], ['RL', 'XOTWU'], ['RC', 'XURC'], ['CR', 'XLMH'], ['IR', 'XLMH'], ['AR', 'XLMH'],
  ['MAV', 'XNALP'], ['MAC', 'XLH'], ['MPR', 'XNLH'], ['MUI', 'XNR'], ['MS', 'XUC'], ['MC', 'XNLH'], ['MI', 'XNLH'], ['MA', 'XNLH'],
]
const V40_BASE: Metrics = [
  ['AV', 'NALP'], ['AC', 'LH'], ['AT', 'NP'], ['PR', 'NLH'], ['UI', 'NPA'], ['VC', 'HLN'], ['VI', 'HLN'], ['VA', 'HLN'], ['SC', 'HLN'], ['SI', 'HLN'], ['SA', 'HLN'],
]
const V40_OPTIONAL: Metrics = [
  ['E', 'XAPU'], ['CR', 'XHML'], ['IR', 'XHML'], ['AR', 'XHML'],
  ['MAV', 'XNALP'], ['MAC', 'XLH'], ['MAT', 'XNP'], ['MPR', 'XNLH'], ['MUI', 'XNPA'], ['MVC', 'XHLN'], ['MVI', 'XHLN'], ['MVA', 'XHLN'],
  ['MSC', 'XHLN'], ['MSI', 'XSHLN'], ['MSA', 'XSHLN'], ['S', 'XNP'], ['AU', 'XNY'], ['R', 'XAUI'], ['V', 'XDC'], ['RE', 'XLMH'], ['U', 'X'],
]

export type CvssVersion = '3.1' | '4.0'

/** Why a vector is not a valid CVSS v3.1 or v4.0 vector, or undefined when it is. */
export function cvssVectorProblem(vector: string): string | undefined {
  const [prefix, ...parts] = vector.split('/')
  const version = /^CVSS:(3\.1|4\.0)$/.exec(prefix)?.[1] as CvssVersion | undefined
  if (version === undefined) return 'expected a CVSS v3.1 or v4.0 vector, starting with CVSS:3.1/ or CVSS:4.0/'
  const [base, optional] = version === '3.1' ? [V31_BASE, V31_OPTIONAL] : [V40_BASE, V40_OPTIONAL]
  const seen = new Set<string>()
  for (const [i, part] of parts.entries()) {
    const [metric, value, ...rest] = part.split(':')
    if (value === undefined || rest.length > 0) return `'${part}' is not a metric:value pair`
    if (i < base.length && metric !== base[i][0]) return `base metric ${i + 1} of CVSS ${version} is ${base[i][0]}, not '${metric}'`
    const allowed = [...base, ...optional].find(([name]) => name === metric)?.[1]
    if (allowed === undefined) return `'${metric}' is not a CVSS ${version} metric`
    if (seen.has(metric)) return `metric ${metric} appears twice`
    seen.add(metric)
    if (value.length !== 1 || !allowed.includes(value)) return `${metric}:${value}: ${metric} takes one of ${allowed.split('').join(', ')}`
  }
  if (parts.length < base.length) return `CVSS ${version} needs the base metrics ${base.map(([name]) => name).join(', ')}`
  return undefined
}

/** The version of a valid vector. */
export function cvssVersion(vector: string): CvssVersion {
  return vector.startsWith('CVSS:4.0/') ? '4.0' : '3.1'
}
