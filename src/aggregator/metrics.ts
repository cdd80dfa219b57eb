/** Counters and summaries in the Prometheus text exposition format. */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>()

  counter(name: string, help: string, labels: Record<string, string | number> = {}, by = 1): void {
    let c = this.#counters.get(name)
    if (!c) this.#counters.set(name, (c = { help, values: new Map() }))
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, '_')}"`)
      .join(',')
    c.values.set(key, (c.values.get(key) ?? 0) + by)
  }

  render(): string {
    const lines: string[] = []
    for (const [name, c] of this.#counters) {
      lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`)
      for (const [key, v] of c.values) lines.push(`${name}${key ? `{${key}}` : ''} ${v}`)
    }
    return `${lines.join('\n')}\n`
  }
}
