import { parentPort, workerData } from 'node:worker_threads'
import { parseJsonDocument } from '../format/json.ts'
import { verifyBatch } from './batch.ts'
import { ProviderRegistry } from './registry.ts'
import { outcome, ReceiptVerifier, type VerifyOutcome } from './verify.ts'
import type { ReceiptDomain } from './types.ts'
import type { VerifyJob, VerifyJobResult } from './pool.ts'

let verifier = new ReceiptVerifier({
  domain: workerData.domain as ReceiptDomain,
  registry: workerData.registry ? ProviderRegistry.from(workerData.registry) : undefined,
})

function run(job: VerifyJob): VerifyJobResult {
  if (job.kind === 'registry') {
    verifier = new ReceiptVerifier({ domain: verifier.domain, registry: ProviderRegistry.from(job.entries) })
    return { id: job.id, outcomes: [] }
  }
  if (job.kind === 'receipts') {
    const items = job.texts ? job.texts.map((t) => parseOrFail(t)) : (job.documents ?? [])
    return { id: job.id, outcomes: items.map((d) => (d instanceof ParseFailure ? d.outcome : outcome(() => verifier.verify(d)))) }
  }
  // A batch: all or nothing.
  try {
    const doc = typeof job.batch === 'string' ? parseJsonDocument(job.batch, 'batch') : job.batch
    return { id: job.id, outcomes: verifyBatch(verifier, doc).map((v): VerifyOutcome => ({ ok: true, ...v })) }
  } catch (error) {
    return { id: job.id, outcomes: [outcome(() => { throw error })] }
  }
}

class ParseFailure {
  constructor(readonly outcome: VerifyOutcome) {}
}

function parseOrFail(text: string): unknown {
  try {
    return parseJsonDocument(text, 'receipt')
  } catch (error) {
    return new ParseFailure({ ok: false, reason: 'schema', message: (error as Error).message.split('\n')[0] as string })
  }
}

parentPort!.on('message', (job: VerifyJob) => parentPort!.postMessage(run(job)))
