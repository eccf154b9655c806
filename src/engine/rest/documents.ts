/**
 * The documents API of Camunda 8.8 (/v2/documents): upload one or many, download (checking the
 * content hash when given), delete. The store is the engine's own (files in its data dir); it
 * makes no links, as Camunda's local and in-memory stores make none.
 */
import type { NextFunction, Request, Response, Router } from 'express'
import multer, { MulterError } from 'multer'
import { z } from 'zod'
import { DocumentError, type DocumentMetadata, type DocumentStore, type StoredDocument } from '../documents'
import { HttpProblem, invalidArgument } from './problem'

/** The largest document accepted. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_DOCUMENT_BYTES, files: 100, fields: 10 } })

const metadataSchema = z.object({
  contentType: z.string().nullish(),
  fileName: z.string().nullish(),
  expiresAt: z.string().nullish(),
  size: z.number().int().nonnegative().nullish(),
  processDefinitionId: z.string().nullish(),
  processInstanceKey: z.union([z.string(), z.number()]).transform(String).nullish(),
  customProperties: z.record(z.string(), z.unknown()).nullish(),
})

function receive(field: 'file' | 'files') {
  return (req: Request, res: Response, next: NextFunction) => {
    const handler = field === 'file' ? upload.single('file') : upload.array('files')
    handler(req, res, (err?: unknown) => {
      if (err === undefined) return next()
      if (err instanceof MulterError && err.code === 'LIMIT_FILE_SIZE') return next(new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `A document may not exceed ${MAX_DOCUMENT_BYTES} bytes`))
      next(invalidArgument(`Invalid multipart request: ${err instanceof Error ? err.message : String(err)}`))
    })
  }
}

function metadataOf(req: Request, file: Express.Multer.File): DocumentMetadata {
  const raw = (req.body as Record<string, unknown> | undefined)?.metadata
  let parsed: z.output<typeof metadataSchema> = {}
  if (typeof raw === 'string' && raw.trim() !== '') {
    let json: unknown
    try { json = JSON.parse(raw) } catch { throw invalidArgument("The part 'metadata' is not valid JSON") }
    const result = metadataSchema.safeParse(json)
    if (!result.success) throw invalidArgument(`The part 'metadata' is invalid: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    parsed = result.data
  }
  const metadata: DocumentMetadata = {}
  for (const [k, v] of Object.entries(parsed)) if (v !== null && v !== undefined) (metadata as Record<string, unknown>)[k] = v
  metadata.contentType ??= file.mimetype || 'application/octet-stream'
  metadata.fileName ??= file.originalname || undefined
  return metadata
}

function reference(d: StoredDocument): Record<string, unknown> {
  return { 'camunda.document.type': 'camunda', storeId: d.storeId, documentId: d.documentId, contentHash: d.contentHash, metadata: d.metadata }
}

function checkStore(store: DocumentStore, storeId: unknown): void {
  if (storeId === undefined || storeId === '') return
  if (storeId !== store.storeId) throw invalidArgument(`No document store with id '${String(storeId)}': this engine keeps documents in '${store.storeId}'`)
}

function documentProblem(error: unknown): unknown {
  if (error instanceof DocumentError) return new HttpProblem(error.status, error.status === 404 ? 'NOT_FOUND' : error.status === 409 ? 'ALREADY_EXISTS' : 'INVALID_ARGUMENT', error.message)
  return error
}

export function documentRoutes(router: Router, store: DocumentStore): void {
  const query = (req: Request, name: string): string | undefined => (typeof req.query[name] === 'string' ? req.query[name] : undefined)

  router.post('/documents', receive('file'), (req, res) => {
    checkStore(store, query(req, 'storeId'))
    const file = req.file
    if (!file) throw invalidArgument("Expected a multipart part named 'file', but none was sent")
    try {
      res.status(201).json(reference(store.create(file.buffer, metadataOf(req, file), query(req, 'documentId'))))
    } catch (error) {
      throw documentProblem(error)
    }
  })

  router.post('/documents/batch', receive('files'), (req, res) => {
    checkStore(store, query(req, 'storeId'))
    const files = (req.files ?? []) as Express.Multer.File[]
    if (files.length === 0) throw invalidArgument("Expected multipart parts named 'files', but none was sent")
    const createdDocuments: Record<string, unknown>[] = []
    const failedDocuments: Record<string, unknown>[] = []
    for (const file of files) {
      try {
        createdDocuments.push(reference(store.create(file.buffer, { contentType: file.mimetype || 'application/octet-stream', fileName: file.originalname })))
      } catch (error) {
        const problem = documentProblem(error) as HttpProblem
        failedDocuments.push({ fileName: file.originalname, status: problem.status, title: problem.title, detail: problem.message })
      }
    }
    res.status(failedDocuments.length > 0 ? 207 : 201).json({ createdDocuments, failedDocuments })
  })

  router.get('/documents/:documentId', (req, res) => {
    checkStore(store, query(req, 'storeId'))
    try {
      const { document, content } = store.read(req.params.documentId, query(req, 'contentHash'))
      res.setHeader('content-type', document.metadata.contentType ?? 'application/octet-stream')
      if (document.metadata.fileName) res.setHeader('content-disposition', `attachment; filename="${document.metadata.fileName.replace(/["\\\r\n]/g, '_')}"`)
      res.send(content)
    } catch (error) {
      throw documentProblem(error)
    }
  })

  router.delete('/documents/:documentId', (req, res) => {
    checkStore(store, query(req, 'storeId'))
    try {
      store.remove(req.params.documentId)
    } catch (error) {
      throw documentProblem(error)
    }
    res.status(204).end()
  })

  // /links in the 8.8 specification; the 8.8 SDK posts to /link.
  for (const suffix of ['links', 'link']) {
    router.post(`/documents/:documentId/${suffix}`, (req, res) => {
      checkStore(store, query(req, 'storeId'))
      try {
        store.read(req.params.documentId, query(req, 'contentHash'))
      } catch (error) {
        throw documentProblem(error)
      }
      void res
      throw invalidArgument(`The document store '${store.storeId}' does not create links (only cloud stores, AWS and GCP, do): download the document from /v2/documents/${req.params.documentId} instead`)
    })
  }
}
