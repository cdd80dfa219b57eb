/**
 * A one-line progress indicator on stderr, redrawn in place on a terminal and
 * silent otherwise (logs and CI stay clean). Redraws at most every 100 ms.
 */
import type { Io } from './command.ts'

export function progress(io: Io, label: string): { update(done: number, total?: number, phase?: string): void; done(message?: string): void } {
  let last = 0
  const started = Date.now()
  return {
    update(done, total, phase) {
      if (!io.interactive) return
      const now = Date.now()
      if (now - last < 100) return
      last = now
      const width = 24
      const bar = total ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width)}] ` : ''
      const count = total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}` : done.toLocaleString('en-US')
      io.stderr(`\r${label}${phase ? ` ${phase}` : ''} ${bar}${count}  \x1b[K`)
    },
    done(message) {
      if (io.interactive) io.stderr('\r\x1b[K')
      if (message) io.stderr(`${message} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
    },
  }
}
