/** The verifier pool's worker thread: parses and verifies receipt texts and batches, answering with transferable columns. */
import { parentPort, workerData } from 'node:worker_threads'
import { parseJsonDocument } from '../base/json.ts'
import { verifyBatch } from './batchVerify.ts'
import { ReceiptColumns } from './columns.ts'
import { ProviderRegistry } from './registry.ts'
import { outcome, ReceiptVerifier } from './verify.ts'
import type { ReceiptDomain } from './types.ts'
import type { VerifyJob, VerifyJobResult } from './pool.ts'

let verifier = new ReceiptVerifier({
  domain: workerData.domain as ReceiptDomain,
  registry: workerData.registry ? ProviderRegistry.from(workerData.registry) : undefined,
})

function run(job: VerifyJob): VerifyJobResult {
  if (job.kind === 'registry') {
    verifier = new ReceiptVerifier({ domain: verifier.domain, registry: ProviderRegistry.from(job.entries) })
    return { id: job.id, columns: new ReceiptColumns(0) }
  }
  if (job.kind === 'receipts') {
    const columns = new ReceiptColumns(job.lengths.length)
    // One decode of the transferred bytes; each receipt is then a slice of that string.
    const joined = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString('utf8')
    let offset = 0
    job.lengths.forEach((length, i) => {
      const text = joined.slice(offset, offset + length)
      offset += length
      let document: unknown
      try {
        document = parseJsonDocument(text, 'receipt')
      } catch (error) {
        columns.fail(i, 'schema', (error as Error).message.split('\n')[0] as string)
        return
      }
      verifier.verifyInto(document, columns, i)
    })
    return { id: job.id, columns }
  }
  // A batch: all or nothing.
  try {
    const document = parseJsonDocument(job.batch, 'batch') as { message: { receiptsRoot: string } }
    const columns = verifyBatch(verifier, document)
    return { id: job.id, columns, batchRoot: document.message.receiptsRoot.toLowerCase() }
  } catch (error) {
    const o = outcome(() => {
      throw error
    })
    return { id: job.id, columns: new ReceiptColumns(0), batchError: o.ok ? undefined : { reason: o.reason, message: o.message } }
  }
}

parentPort!.on('message', (job: VerifyJob) => {
  const result = run(job)
  parentPort!.postMessage(result, result.columns.transferList())
})
