/**
 * CVSS v3.1 and v4.0 vectors, read and scored by ae-cvss-calculator (FIRST's formulas for every
 * version), so that the severity of a vulnerability follows from its vector and not from a number
 * typed next to it (SEC-2).
 */
import { Cvss3P1, Cvss4P0 } from 'ae-cvss-calculator'

export type CvssVersion = '3.1' | '4.0'

/** A valid vector and the score of the metrics it sets. */
export interface CvssScore {
  version: CvssVersion
  /** 0.0 to 10.0, one decimal */
  score: number
  /** which score that is: v3.1 base, temporal or environmental; v4.0 CVSS-B, -BT, -BE or -BTE */
  kind: string
}

/** Why a vector is not scored: the reason, for the one who typed it. */
export class CvssVectorError extends Error {
  constructor(readonly vector: string, reason: string) {
    super(reason)
    this.name = 'CvssVectorError'
  }
}

/**
 * Scores a vector: the score of every metric it sets (the most refined one FIRST defines for it).
 * Throws CvssVectorError when the vector is not a complete, well-formed CVSS v3.1 or v4.0 vector.
 */
export function scoreCvssVector(vector: string): CvssScore {
  const version = /^CVSS:(3\.1|4\.0)\//.exec(vector)?.[1] as CvssVersion | undefined
  if (version === undefined) throw new CvssVectorError(vector, 'expected a CVSS v3.1 or v4.0 vector, starting with CVSS:3.1/ or CVSS:4.0/')
  const parts = vector.split('/').slice(1)
  // The library skips or guesses at malformed parts; a report names each metric exactly once.
  const malformed = parts.find((part) => !/^[A-Za-z]+:[A-Za-z]+$/.test(part))
  if (malformed !== undefined) throw new CvssVectorError(vector, `'${malformed}' is not a metric:value pair`)
  const cvss = parse(version, vector)
  if (!cvss.isBaseFullyDefined()) {
    const base = [...cvss.getRegisteredComponents().values()][0]
    const missing = base.filter((metric) => cvss.getComponent(metric).shortName === 'X').map((metric) => metric.shortName)
    throw new CvssVectorError(vector, `CVSS ${version} needs every base metric (${base.map((metric) => metric.shortName).join(', ')}); missing ${missing.join(', ')}`)
  }
  const read = cvss.toString(false, undefined, true).split('/').slice(1)
  const given = parts.filter((part) => !part.endsWith(':X'))
  if ([...read].sort().join('/') !== [...given].sort().join('/')) {
    throw new CvssVectorError(vector, `each metric appears once: the vector reads as ${cvss.toString(false, undefined, true)}`)
  }
  if (cvss instanceof Cvss3P1) {
    const scores = cvss.calculateScores()
    return { version, score: scores.overall, kind: kindV31(scores) }
  }
  const scores = cvss.calculateScores()
  return { version, score: scores.overall, kind: kindV40(scores) }
}

function parse(version: CvssVersion, vector: string): Cvss3P1 | Cvss4P0 {
  try {
    return version === '3.1' ? new Cvss3P1(vector) : new Cvss4P0(vector)
  } catch (error) {
    // The library says "Unknown component value Q for component AV" and the like.
    throw new CvssVectorError(vector, `not a CVSS ${version} vector: ${(error as Error).message}`)
  }
}

function kindV31(scores: { temporal: number | undefined; environmental: number | undefined }): string {
  if (scores.environmental !== undefined) return 'CVSS 3.1 environmental score'
  return scores.temporal !== undefined ? 'CVSS 3.1 temporal score' : 'CVSS 3.1 base score'
}

function kindV40(scores: { threat: number | undefined; environmental: number | undefined }): string {
  return `CVSS-B${scores.threat !== undefined ? 'T' : ''}${scores.environmental !== undefined ? 'E' : ''} 4.0 score`
}

/** Why a given score is not the vector's, or undefined when they agree (to the one decimal CVSS has). */
export function cvssScoreDisagreement(given: number, computed: CvssScore, field = 'cvssScore', vectorField = 'cvssVector'): string | undefined {
  if (Math.round(given * 10) === Math.round(computed.score * 10)) return undefined
  return `${field} ${given.toFixed(1)} disagrees with ${vectorField}, which scores ${computed.score.toFixed(1)} (${computed.kind}); give ${computed.score.toFixed(1)} or leave the score out`
}
