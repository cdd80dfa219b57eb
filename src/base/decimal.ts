/** A canonical decimal integer string: digits only, no sign, no leading zero, 1 to `maxDigits` digits. */
export function isCanonicalDecimal(v: string, maxDigits: number): boolean {
  const n = v.length
  if (n === 0 || n > maxDigits || (n > 1 && v.charCodeAt(0) === 48)) return false
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}
