/**
 * The engine's document store (Camunda 8.8 document handling, "local" store type): each document
 * is a file in the data dir (`documents/<id>` with `<id>.json` beside it for its metadata),
 * owner-only, written whole before it is named; with --in-memory it lives in memory.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'

export interface DocumentMetadata {
  contentType?: string
  fileName?: string
  expiresAt?: string
  size?: number
  processDefinitionId?: string
  processInstanceKey?: string
  customProperties?: Record<string, unknown>
}

export interface StoredDocument {
  documentId: string
  storeId: string
  contentHash: string
  metadata: DocumentMetadata
}

/** A document id is a file name here: letters, digits, dot, dash and underscore, not starting with a dot. */
export const DOCUMENT_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

export class DocumentError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message)
  }
}

export interface DocumentStore {
  readonly storeId: string
  create(content: Buffer, metadata: DocumentMetadata, documentId?: string): StoredDocument
  read(documentId: string, contentHash?: string): { document: StoredDocument; content: Buffer }
  remove(documentId: string): void
}

abstract class BaseStore implements DocumentStore {
  abstract readonly storeId: string
  protected abstract has(documentId: string): boolean
  protected abstract write(document: StoredDocument, content: Buffer): void
  protected abstract load(documentId: string): { document: StoredDocument; content: Buffer } | undefined
  protected abstract drop(documentId: string): void

  create(content: Buffer, metadata: DocumentMetadata, documentId?: string): StoredDocument {
    const id = documentId ?? randomUUID()
    if (!DOCUMENT_ID.test(id)) throw new DocumentError(400, `The document id '${id}' is not valid: use letters, digits, '.', '-' and '_' (at most 128, not starting with '.')`)
    if (this.has(id)) throw new DocumentError(409, `A document with id '${id}' already exists in store '${this.storeId}'`)
    const document: StoredDocument = {
      documentId: id, storeId: this.storeId, contentHash: createHash('sha256').update(content).digest('hex'),
      metadata: { ...metadata, size: content.length },
    }
    this.write(document, content)
    return document
  }

  read(documentId: string, contentHash?: string): { document: StoredDocument; content: Buffer } {
    const found = DOCUMENT_ID.test(documentId) ? this.load(documentId) : undefined
    if (!found) throw new DocumentError(404, `Document with id '${documentId}' not found in store '${this.storeId}'`)
    if (contentHash !== undefined && contentHash !== found.document.contentHash) {
      throw new DocumentError(400, `The content hash of document '${documentId}' does not match the one given`)
    }
    return found
  }

  remove(documentId: string): void {
    if (!DOCUMENT_ID.test(documentId) || !this.has(documentId)) throw new DocumentError(404, `Document with id '${documentId}' not found in store '${this.storeId}'`)
    this.drop(documentId)
  }
}

export class MemoryDocumentStore extends BaseStore {
  readonly storeId = 'in-memory'
  private readonly documents = new Map<string, { document: StoredDocument; content: Buffer }>()
  protected has(id: string): boolean { return this.documents.has(id) }
  protected write(document: StoredDocument, content: Buffer): void { this.documents.set(document.documentId, { document, content }) }
  protected load(id: string) { return this.documents.get(id) }
  protected drop(id: string): void { this.documents.delete(id) }
}

export class FileDocumentStore extends BaseStore {
  readonly storeId = 'local'

  constructor(private readonly dir: string) {
    super()
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  }

  private file(id: string): string {
    return path.join(this.dir, id)
  }

  protected has(id: string): boolean {
    return existsSync(`${this.file(id)}.json`)
  }

  protected write(document: StoredDocument, content: Buffer): void {
    const target = this.file(document.documentId)
    const temp = `${target}.${process.pid}.tmp`
    writeFileSync(temp, content, { mode: 0o600 })
    renameSync(temp, target)
    // The metadata names the document: written last, so a half-written document is never found.
    writeFileSync(`${temp}.json`, JSON.stringify(document), { mode: 0o600 })
    renameSync(`${temp}.json`, `${target}.json`)
  }

  protected load(id: string): { document: StoredDocument; content: Buffer } | undefined {
    if (!this.has(id)) return undefined
    return { document: JSON.parse(readFileSync(`${this.file(id)}.json`, 'utf8')) as StoredDocument, content: readFileSync(this.file(id)) }
  }

  protected drop(id: string): void {
    rmSync(`${this.file(id)}.json`, { force: true })
    rmSync(this.file(id), { force: true })
  }
}
