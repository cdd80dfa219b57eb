/** Renders rows as an aligned text table; numbers-looking cells are right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[0-9][0-9,.]*%?$/.test(r[i] ?? '')))
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Groups the whole part of a decimal string with commas and keeps at most `places` decimals (display only). */
export function pretty(decimal: string, places = 2): string {
  const [whole, fraction = ''] = decimal.split('.')
  const grouped = (whole as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const f = fraction.slice(0, places).replace(/0+$/, '')
  return f ? `${grouped}.${f}` : grouped
}
