/**
 * The documents API (Camunda 8.8 /v2/documents) through the SDK's REST client: upload one or
 * several, download with the content hash, delete; links are refused as Camunda's local store
 * refuses them (issue #17).
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync, type ReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { engineTestKit } from '../support/engine-test-kit'

const { client, engine } = engineTestKit({ worker: 'documents' })

const rest = () => client.camunda.getCamundaRestClient()
const scratch = mkdtempSync(path.join(tmpdir(), 'raccord-documents-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A file on disk, read as the SDK reads uploads. */
function fileStream(name: string, content: string): ReadStream {
  writeFileSync(path.join(scratch, name), content)
  return createReadStream(path.join(scratch, name))
}

test('an uploaded document is downloaded as it was, by its id and content hash, then deleted', async () => {
  // given a document uploaded with its metadata
  const uploaded = await rest().uploadDocument({
    file: fileStream('trace.log', 'line 1\nline 2\n'),
    metadata: { contentType: 'text/plain', fileName: 'trace.log', customProperties: { request: 'TRC-1' } },
  })
  expect(uploaded).toMatchObject({ 'camunda.document.type': 'camunda', storeId: 'in-memory', metadata: { contentType: 'text/plain', fileName: 'trace.log', size: 14, customProperties: { request: 'TRC-1' } } })
  expect(uploaded.contentHash).toMatch(/^[0-9a-f]{64}$/)
  // when it is downloaded with its hash
  const content = await rest().downloadDocument({ documentId: uploaded.documentId, contentHash: uploaded.contentHash })
  // then it is the same bytes
  expect(Buffer.from(content).toString()).toBe('line 1\nline 2\n')
  // and a wrong hash is refused
  const wrong = await fetch(`http://127.0.0.1:${engine.restPort}/v2/documents/${uploaded.documentId}?contentHash=${'0'.repeat(64)}`)
  expect(wrong.status).toBe(400)
  // when it is deleted, it is gone
  await rest().deleteDocument({ documentId: uploaded.documentId })
  const gone = await fetch(`http://127.0.0.1:${engine.restPort}/v2/documents/${uploaded.documentId}`)
  expect(gone.status).toBe(404)
  expect(((await gone.json()) as { detail: string }).detail).toContain(uploaded.documentId)
})

test('several documents in one upload; a chosen id that exists already is 409; an id that is not a file name is 400', async () => {
  const batch = await rest().uploadDocuments({ files: [fileStream('a.txt', 'A'), fileStream('b.txt', 'BB')] })
  expect(batch.createdDocuments.map((d) => d.metadata.fileName).sort()).toEqual(['a.txt', 'b.txt'])
  expect(batch.failedDocuments).toEqual([])
  const post = async (documentId: string) => {
    const form = new FormData()
    form.append('file', new Blob(['x']), 'x.txt')
    return fetch(`http://127.0.0.1:${engine.restPort}/v2/documents?documentId=${encodeURIComponent(documentId)}`, { method: 'POST', body: form })
  }
  expect((await post('chosen-id')).status).toBe(201)
  const again = await post('chosen-id')
  expect(again.status).toBe(409)
  expect(((await again.json()) as { detail: string }).detail).toContain("'chosen-id' already exists")
  expect((await post('../escape')).status).toBe(400)
})

test('a link is refused by name: this store, like Camunda\'s local one, makes none', async () => {
  const uploaded = await rest().uploadDocument({ file: fileStream('l.txt', 'l'), metadata: { fileName: 'l.txt' } })
  const refused = await fetch(`http://127.0.0.1:${engine.restPort}/v2/documents/${uploaded.documentId}/links`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeToLive: 60_000 }),
  })
  expect(refused.status).toBe(400)
  expect(((await refused.json()) as { detail: string }).detail).toContain('does not create links')
})
