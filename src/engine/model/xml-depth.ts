/**
 * The nesting depth of an XML document, measured in one pass without recursion, so that a
 * deeply nested resource is refused before anything that walks the element tree sees it.
 */
import type { Problem } from './types'

/**
 * The deepest element nesting a BPMN or DMN resource may have. The deepest models of this project
 * (processes/ and the test fixtures, 109 files) nest 6 levels: a Modeler diagram needs about 5 for
 * its shapes, and each embedded subprocess adds one. 100 leaves ample room for any real model
 * while keeping every walk that follows the element tree (ours, the moddle readers', the
 * runtime's scope activation, measured to fail between 200 and 500 nested subprocesses) far from
 * the stack limit. libxml2 applies the same idea with a default limit of 256.
 */
export const MAX_XML_DEPTH = 100

/**
 * The maximum element depth of `xml`, stopping early once it exceeds `stopAbove` (the rest of the
 * document then does not matter). Comments, CDATA sections, processing instructions and
 * declarations are skipped; a '>' inside a quoted attribute value does not end a tag. Malformed
 * text is measured as far as it goes: the XML parser reports it afterwards.
 */
export function xmlDepth(xml: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0
  let deepest = 0
  let i = xml.indexOf('<')
  while (i !== -1 && i < xml.length) {
    const next = xml[i + 1]
    if (xml.startsWith('<!--', i)) {
      i = skipPast(xml, '-->', i + 4)
    } else if (xml.startsWith('<![CDATA[', i)) {
      i = skipPast(xml, ']]>', i + 9)
    } else if (next === '?') {
      i = skipPast(xml, '?>', i + 2)
    } else if (next === '!') {
      i = skipPast(xml, '>', i + 2)
    } else {
      const end = tagEnd(xml, i + 1)
      if (end === -1) break
      if (next === '/') {
        depth = Math.max(0, depth - 1)
      } else {
        // an empty element "<c/>" sits one level down without opening it
        const selfClosing = xml[end - 1] === '/'
        deepest = Math.max(deepest, depth + 1)
        if (!selfClosing) depth++
        if (deepest > stopAbove) return deepest
      }
      i = end + 1
    }
    if (i === -1) break
    i = xml.indexOf('<', i)
  }
  return deepest
}

/** A deployment problem when the document nests deeper than MAX_XML_DEPTH. */
export function xmlDepthProblem(xml: string): Problem | undefined {
  if (xmlDepth(xml, MAX_XML_DEPTH) <= MAX_XML_DEPTH) return undefined
  return { message: `The document nests elements more than ${MAX_XML_DEPTH} levels deep, which is not supported` }
}

function skipPast(xml: string, terminator: string, from: number): number {
  const at = xml.indexOf(terminator, from)
  return at === -1 ? -1 : at + terminator.length
}

/** The index of the '>' closing the tag that starts before `from`, or -1. */
function tagEnd(xml: string, from: number): number {
  let quote: string | undefined
  for (let i = from; i < xml.length; i++) {
    const char = xml[i]
    if (quote !== undefined) {
      if (char === quote) quote = undefined
    } else if (char === '"' || char === "'") {
      quote = char
    } else if (char === '>') {
      return i
    }
  }
  return -1
}
