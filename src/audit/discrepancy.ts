/**
 * What an audit check reports: the first discrepancy it finds (which file, receipt, leaf or number; expected and
 * found), or the line of a check that passed. compareJson names the first path where two JSON documents differ.
 */
import { BaseError } from '../base/errors.ts'

export type DiscrepancyKind = 'file' | 'receipt' | 'spend-leaf' | 'reward-leaf' | 'report' | 'manifest' | 'proof' | 'stake' | 'config' | 'chain'

export class AuditDiscrepancy extends BaseError {
  override name = 'AuditDiscrepancy'
  constructor(
    readonly kind: DiscrepancyKind,
    readonly subject: string,
    readonly expected?: string,
    readonly found?: string,
  ) {
    super(`AUDIT_${kind.toUpperCase().replace('-', '_')}`, expected === undefined ? subject : `${subject}: expected ${expected}, found ${found}`)
  }
}

/** Where each check that passed is told, as it passes. */
export type Checks = { push(line: string): void }

/** Names the first path where two JSON values differ. */
export function compareJson(kind: 'report' | 'manifest', expected: unknown, found: unknown, path: string, skip?: RegExp): void {
  if (skip?.test(path)) return
  const file = kind === 'report' ? 'report.json' : 'manifest.json'
  if (typeof expected !== 'object' || expected === null || typeof found !== 'object' || found === null) {
    if (expected !== found) throw new AuditDiscrepancy(kind, `${file} ${path}`, JSON.stringify(expected), JSON.stringify(found))
    return
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(found)])
  for (const k of keys) {
    const child = Array.isArray(expected) ? `${path}[${k}]` : `${path}.${k}`
    if (!(k in (expected as object))) throw new AuditDiscrepancy(kind, `${file} ${child} should not be there`, 'nothing', JSON.stringify((found as Record<string, unknown>)[k]))
    if (!(k in (found as object))) throw new AuditDiscrepancy(kind, `${file} ${child} is missing`, JSON.stringify((expected as Record<string, unknown>)[k]), 'nothing')
    compareJson(kind, (expected as Record<string, unknown>)[k], (found as Record<string, unknown>)[k], child, skip)
  }
}
