/**
 * Progress of long work on stderr: on a terminal a one-line bar redrawn in place (at most every 100 ms); otherwise
 * (logs, CI) a plain line every `intervalMs` (10 s by default), so long work is never silent there.
 */
import type { Io } from './command.ts'

export type ProgressOptions = { intervalMs?: number; now?: () => number }

export function progress(io: Io, label: string, options: ProgressOptions = {}): { update(done: number, total?: number, phase?: string): void; done(message?: string): void } {
  const now = options.now ?? Date.now
  const started = now()
  const interval = io.interactive ? 100 : (options.intervalMs ?? 10_000)
  // A terminal draws at once; a log gets its first line only once the work has lasted an interval.
  let last = io.interactive ? Number.NEGATIVE_INFINITY : started
  const count = (done: number, total?: number) => (total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}` : done.toLocaleString('en-US'))
  return {
    update(done, total, phase) {
      const t = now()
      if (t - last < interval) return
      last = t
      const name = `${label}${phase ? ` ${phase}` : ''}`
      if (!io.interactive) {
        io.stderr(`${name}: ${count(done, total)}${total ? ` (${Math.floor((100 * done) / total)} %)` : ''}, ${((t - started) / 1000).toFixed(0)} s\n`)
        return
      }
      const width = 24
      const bar = total ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width)}] ` : ''
      io.stderr(`\r${name} ${bar}${count(done, total)}  \x1b[K`)
    },
    done(message) {
      if (io.interactive) io.stderr('\r\x1b[K')
      if (message) io.stderr(`${message} (${((now() - started) / 1000).toFixed(1)} s)\n`)
    },
  }
}
