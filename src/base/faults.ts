/**
 * Fault injection for crash tests: with FOMO_FAULT=<point>, the process stops
 * at that point, says so on stderr, and waits to be killed (kill -9), so a
 * test can crash it exactly there. Unset, a fault point costs nothing.
 */
export async function faultPoint(point: string): Promise<void> {
  if (process.env.FOMO_FAULT !== point) return
  process.stderr.write(`FAULT-POINT ${point}\n`)
  await new Promise(() => setInterval(() => undefined, 1 << 30))
}
