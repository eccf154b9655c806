/**
 * Schema validation of BPMN and DMN resources, as Zeebe does before reading a model: its model APIs
 * parse with the BPMN 2.0 and DMN 1.3 XSDs, and a resource that breaks one is rejected with the
 * parser's first error (camunda/camunda, DeploymentRejectionTest.shouldRejectDeploymentOfSAXException,
 * issue 8026). The DMN schema requires a name on every decision, which Zeebe's rejection of an
 * unnamed decision comes from. A DMN of another version than 1.3 is not checked (no schema here).
 *
 * A document that is not well-formed XML is rejected the same way, with the parser's error: a
 * lenient reader would accept some (an unescaped '<' in an attribute value) that Zeebe refuses.
 *
 * The schema is the OMG one shipped in bpmn-moddle, with the one relaxation Zeebe 8.4 made:
 * `documentation` may also follow `extensionElements` (camunda/camunda issue 17380: refused by
 * versions before 8.4 only). libxml2 (WebAssembly, ES-module only with top-level await) runs in a
 * worker thread: it keeps large documents off the engine's event loop, and the worker loads the
 * module with a real `import()` wherever the engine runs (bundle, tsx, jest).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { nameThreadSource, startSharedPoolFirst, THREAD_NAMES } from '../thread-name'
import type { Problem } from './types'

const NAMESPACE_PREFIXES: [string, string][] = [
  ['{http://www.omg.org/spec/BPMN/20100524/MODEL}', 'bpmn:'],
  ['{http://www.omg.org/spec/BPMN/20100524/DI}', 'bpmndi:'],
  ['{http://www.omg.org/spec/DD/20100524/DC}', 'dc:'],
  ['{http://www.omg.org/spec/DD/20100524/DI}', 'di:'],
]

/** tBaseElement and tBaseElementWithMixedContent: documentation, then extension elements. */
const BASE_CONTENT = /(<xsd:element ref="documentation" minOccurs="0" maxOccurs="unbounded"\s*\/>\s*)<xsd:element ref="extensionElements" minOccurs="0" maxOccurs="1"\s*\/>/g
/** ...and, since Zeebe 8.4, documentation after them too (deterministic, as XSD requires). */
const RELAXED_CONTENT = '$1<xsd:sequence minOccurs="0"><xsd:element ref="extensionElements"/><xsd:element ref="documentation" minOccurs="0" maxOccurs="unbounded"/></xsd:sequence>'

/** DMN 1.3's namespace: the documents the DMN schema applies to. */
const DMN13 = 'https://www.omg.org/spec/DMN/20191111/MODEL/'

function readSchemas(dir: string, names: string[], prefix: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const name of names) files[`${prefix}/${name}`] = fs.readFileSync(path.join(dir, name), 'utf8')
  return files
}

/** The schema files, by the paths their includes and imports resolve to. */
export function schemaFiles(): Record<string, string> {
  const bpmn = readSchemas(path.dirname(require.resolve('bpmn-moddle/resources/bpmn/xsd/BPMN20.xsd')), ['BPMN20.xsd', 'Semantic.xsd', 'BPMNDI.xsd', 'DI.xsd', 'DC.xsd'], 'bpmn')
  const dmn = readSchemas(path.dirname(require.resolve('dmn-moddle/resources/dmn/xsd/DMN13.xsd')), ['DMN13.xsd', 'DMNDI13.xsd', 'DI.xsd', 'DC.xsd'], 'dmn')
  const files = { ...bpmn, ...dmn }
  const relaxed = files['bpmn/Semantic.xsd'].replace(BASE_CONTENT, RELAXED_CONTENT)
  if (relaxed === files['bpmn/Semantic.xsd']) throw new Error("bpmn-moddle's BPMN schema is not the one expected: its base element content was not found")
  files['bpmn/Semantic.xsd'] = relaxed
  return files
}

/** The worker's code (CommonJS, evaluated): compiles the schema once, then validates each document sent. */
const WORKER_SOURCE = `
${nameThreadSource(THREAD_NAMES.schema)}
const { parentPort, workerData } = require('node:worker_threads')
import(workerData.moduleUrl).then((xml) => {
  const files = {}
  for (const [name, text] of Object.entries(workerData.files)) files[name] = new TextEncoder().encode(text)
  xml.xmlRegisterInputProvider(new xml.XmlBufferInputProvider(files))
  const validators = {
    bpmn: xml.XsdValidator.fromDoc(xml.XmlDocument.fromBuffer(files['bpmn/BPMN20.xsd'], { url: 'bpmn/BPMN20.xsd' })),
    dmn: xml.XsdValidator.fromDoc(xml.XmlDocument.fromBuffer(files['dmn/DMN13.xsd'], { url: 'dmn/DMN13.xsd' })),
  }
  parentPort.on('message', ({ id, text, kind }) => {
    let doc
    try {
      doc = xml.XmlDocument.fromString(text)
    } catch (error) {
      const first = (error.details || [])[0]
      parentPort.postMessage({ id, invalid: first ? { line: first.line, message: first.message } : { line: 0, message: String(error.message) } })
      return
    }
    try {
      if (kind === 'bpmn' || doc.root.namespaceUri === workerData.dmn13) validators[kind].validate(doc)
      parentPort.postMessage({ id })
    } catch (error) {
      const first = (error.details || [])[0]
      parentPort.postMessage({ id, invalid: first ? { line: first.line, message: first.message } : { line: 0, message: String(error.message) } })
    } finally {
      doc.dispose()
    }
  })
  parentPort.postMessage({ ready: true })
}, (error) => parentPort.postMessage({ failed: String(error && error.stack || error) }))
`

export type SchemaKind = 'bpmn' | 'dmn'

interface Answer { id?: number; invalid?: { line: number; message: string }; ready?: boolean; failed?: string }

class SchemaValidator {
  private worker: Worker | undefined
  private nextId = 0
  private readonly pending = new Map<number, { resolve(answer: Answer): void; reject(error: Error): void }>()

  private start(): Worker {
    startSharedPoolFirst()
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { moduleUrl: pathToFileURL(require.resolve('libxml2-wasm')).href, files: schemaFiles(), dmn13: DMN13 },
    })
    worker.unref()
    worker.on('message', (answer: Answer) => {
      if (answer.failed !== undefined) return this.fail(new Error(`The BPMN schema validator could not start: ${answer.failed}`))
      if (answer.id === undefined) return
      const waiter = this.pending.get(answer.id)
      this.pending.delete(answer.id)
      waiter?.resolve(answer)
    })
    worker.on('error', (error) => this.fail(new Error(`The BPMN schema validator stopped: ${error.message}`)))
    worker.on('exit', () => this.fail(new Error('The BPMN schema validator stopped')))
    return worker
  }

  /** Every waiting validation fails with `error`; the next one starts a new worker. */
  private fail(error: Error): void {
    const worker = this.worker
    this.worker = undefined
    for (const waiter of this.pending.values()) waiter.reject(error)
    this.pending.clear()
    void worker?.terminate()
  }

  validate(text: string, kind: SchemaKind): Promise<Answer> {
    const worker = (this.worker ??= this.start())
    const id = this.nextId++
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // Only a waiting validation keeps the process alive.
      if (this.pending.size === 1) worker.ref()
      worker.postMessage({ id, text, kind })
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref()
    })
  }
}

let validator: SchemaValidator | undefined

function readable(message: string): string {
  let text = message.trim()
  for (const [uri, prefix] of NAMESPACE_PREFIXES) text = text.split(uri).join(prefix)
  return text
}

/**
 * The resource's first XML or schema error, worded as Zeebe reports a parser error (with
 * libxml2's text), or undefined when it is valid.
 */
export async function schemaProblem(xml: string, kind: SchemaKind = 'bpmn'): Promise<Problem | undefined> {
  const answer = await (validator ??= new SchemaValidator()).validate(xml, kind)
  if (!answer.invalid) return undefined
  return { message: `Error: URI=null Line=${answer.invalid.line}: ${readable(answer.invalid.message)}` }
}
