/**
 * SEC-2: ae-cvss-calculator scores the vectors; checked here against scores published by FIRST
 * (CVSS v3.1 examples, https://www.first.org/cvss/v3.1/examples) and, for v4.0, FIRST's own base
 * example and Red Hat's test vectors, which its independent implementation checks against FIRST's
 * calculator (https://github.com/RedHatProductSecurity/cvss, tests/vectors_random4).
 */
import { CvssVectorError, cvssScoreDisagreement, scoreCvssVector } from '../../src/app/security/cvss'

describe('SEC-2: CVSS scores come from the vector', () => {
  test.each([
    ['CVE-2014-0160 (Heartbleed)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
    ['CVE-2014-6271 (Shellshock)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVE-2013-1937 (phpMyAdmin reflected XSS)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
    ['CVE-2014-3566 (SSLv3 POODLE)', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
    ['CVE-2013-0375 (MySQL stored SQL injection)', 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4],
  ])('SEC-2: CVSS 3.1, FIRST example %s scores as published', (_name, vector, score) => {
    expect(scoreCvssVector(vector)).toEqual({ version: '3.1', score, kind: 'CVSS 3.1 base score' })
  })

  test.each([
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3, 'CVSS-B 4.0 score'],
    ['CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:N/VC:H/VI:N/VA:H/SC:N/SI:H/SA:N/S:P/AU:Y/R:A/V:D/RE:M/U:Green/MAV:L/MAC:H/MAT:P/MPR:L/MUI:A/MVC:N/MVI:H/MVA:N/MSC:H/MSI:N/MSA:N/CR:H/IR:H/AR:L/E:A', 5.5, 'CVSS-BTE 4.0 score'],
    ['CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:N/VC:L/VI:L/VA:H/SC:N/SI:N/SA:H/S:P/AU:N/R:A/V:D/RE:L/U:Amber/MAV:N/MAC:L/MAT:N/MPR:N/MUI:N/MVC:N/MVI:H/MVA:L/MSC:H/MSI:S/MSA:H/CR:M/IR:L/AR:M/E:P', 9.1, 'CVSS-BTE 4.0 score'],
    ['CVSS:4.0/AV:P/AC:L/AT:P/PR:L/UI:A/VC:H/VI:H/VA:N/SC:H/SI:N/SA:H/S:N/AU:Y/R:I/V:C/RE:H/U:Clear/MAV:L/MAC:L/MAT:P/MPR:L/MUI:A/MVC:H/MVI:L/MVA:L/MSC:N/MSI:S/MSA:S/CR:M/IR:H/AR:L/E:U', 1.8, 'CVSS-BTE 4.0 score'],
  ])('SEC-2: CVSS 4.0 %s scores %d', (vector, score, kind) => {
    expect(scoreCvssVector(vector)).toEqual({ version: '4.0', score, kind })
  })

  test('SEC-2: temporal metrics refine a v3.1 score; the threat metric a v4.0 one', () => {
    expect(scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U')).toEqual({ version: '3.1', score: 7.8, kind: 'CVSS 3.1 temporal score' })
    expect(scoreCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U')).toEqual({ version: '4.0', score: 8.1, kind: 'CVSS-BT 4.0 score' })
  })

  test.each([
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'expected a CVSS v3.1 or v4.0 vector'],
    ['CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'Unknown component value Q for component AV'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/FOO:X', 'Unknown component FOO'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', 'missing A'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A', "'A' is not a metric:value pair"],
    ['CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'each metric appears once'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N', 'missing SA'],
  ])('SEC-2: %s is not scored: %s', (vector, reason) => {
    expect(() => scoreCvssVector(vector)).toThrow(CvssVectorError)
    expect(() => scoreCvssVector(vector)).toThrow(reason)
  })

  test('SEC-2: metrics in another order, or explicitly not defined (X), read the same', () => {
    expect(scoreCvssVector('CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X').score).toBe(9.8)
  })

  test('SEC-2: a given score must be the vector\'s, to the one decimal CVSS has', () => {
    const scored = scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')
    expect(cvssScoreDisagreement(10, scored)).toBeUndefined()
    expect(cvssScoreDisagreement(2, scored)).toBe('cvssScore 2.0 disagrees with cvssVector, which scores 10.0 (CVSS 3.1 base score); give 10.0 or leave the score out')
  })
})
