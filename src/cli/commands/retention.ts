/**
 * `fomo retention`: moves sealed epochs' receipts out of the store once their dispute window has passed, each
 * through an export that is read back and verified against the store first.
 */
import { resolve } from 'node:path'
import { DEFAULT_DISPUTE_WINDOW_SECONDS } from '../../aggregator/retention.ts'
import { requireString, UsageError, type Command } from '../command.ts'
import { checkWritableDirectory } from '../files.ts'
import { storeOptions, withStore } from './aggregator.ts'

export const retentionCommand: Command = {
  name: 'retention',
  summary:
    'Moves the receipts of sealed epochs before --before out of the store once their dispute window has passed: each epoch is\n' +
    'exported to --out/receipts-<epoch>.ndjson (the `fomo export-receipts` format; a file already there is used only when it is\n' +
    'byte for byte the store\'s export, never replaced), the file is read back and verified against the store (every signature, counts, sums, receipt digests), and only\n' +
    'then are its partitions dropped (--drop) or detached into tables of their own (--detach). An export that does not verify\n' +
    'removes nothing. Receipts of a retained epoch are refused afterwards (it is sealed).',
  options: {
    before: { type: 'string', valueName: 'epoch', description: 'Retain sealed epochs before this one' },
    out: { type: 'string', valueName: 'dir', description: 'Directory the exports are written to (receipts-<epoch>.ndjson)' },
    drop: { type: 'boolean', description: "Drop each retained epoch's partitions (the export is then the only copy)" },
    detach: { type: 'boolean', description: "Detach each retained epoch's partitions into tables named receipts_retained_<epoch> and batches_retained_<epoch>" },
    'dispute-window': { type: 'string', valueName: 'seconds', description: `Seconds after sealing an epoch's receipts stay (default ${DEFAULT_DISPUTE_WINDOW_SECONDS}, seven days)` },
    ...storeOptions,
  },
  examples: ['fomo retention --before 20400 --out /archive/receipts --detach', 'fomo retention --before 20400 --out /archive/receipts --drop --dispute-window 1209600'],
  async run({ values }, io) {
    const before = requireString(values, 'before', 'retention')
    if (!/^(0|[1-9][0-9]{0,9})$/.test(before)) throw new UsageError('--before must be a non-negative integer epoch (the UTC day number for daily epochs)', 'retention')
    if (Boolean(values.drop) === Boolean(values.detach)) throw new UsageError('give --drop (the export becomes the only copy) or --detach (the rows stay in tables of their own), one of them', 'retention')
    const windowText = typeof values['dispute-window'] === 'string' ? values['dispute-window'] : String(DEFAULT_DISPUTE_WINDOW_SECONDS)
    if (!/^(0|[1-9][0-9]{0,9})$/.test(windowText)) throw new UsageError('--dispute-window must be a whole number of seconds', 'retention')
    const dir = resolve(io.cwd, requireString(values, 'out', 'retention'))
    await checkWritableDirectory(dir, '--out', 'retention', { create: true })
    const mode = values.drop ? 'drop' : 'detach'
    const windowSeconds = Number(windowText)
    const now = BigInt(Date.now()) * 1_000_000n
    await withStore(values, io, 'retention', async (store) => {
      for (const status of await store.retentionStatus(Number(before))) {
        if (status.retained) continue
        const until = status.sealedAt === null ? undefined : status.sealedAt + windowSeconds
        if (until === undefined || now < BigInt(until) * 1_000_000_000n) {
          io.stdout(`${JSON.stringify({ epoch: status.epoch, retained: false, reason: 'dispute-window', until: until === undefined ? null : new Date(until * 1000).toISOString() })}\n`)
          continue
        }
        const r = await store.retainEpoch(status.epoch, { dir, mode, windowSeconds, now })
        io.stdout(
          `${JSON.stringify({ epoch: r.epoch, retained: true, mode: r.mode, receipts: r.receipts, batches: r.batches, gross: r.gross.toString(), charged: r.charged.toString(), file: r.exportFile, sha256: r.exportSha256, exported: r.exported })}\n`,
        )
      }
    })
  },
}
