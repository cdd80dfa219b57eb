/** The command list of `fomo`: its light table (names and summaries, no module loaded) agrees with the modules. */
import { describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import { commands, firstSentence, main, systemErrorLine } from './main.ts'

function capture() {
  const out = { stdout: '', stderr: '' }
  const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), env: {}, cwd: process.cwd(), interactive: false }
  return { out, io }
}

describe('fomo command list', () => {
  it('each entry loads the command it names, and its summary is the first sentence of that command\'s', async () => {
    for (const entry of commands) {
      const command = await entry.load()
      expect(command.name).toBe(entry.name)
      expect(entry.summary, `the summary of "${entry.name}" in src/cli/main.ts`).toBe(firstSentence(command.summary))
    }
    expect(new Set(commands.map((c) => c.name)).size).toBe(commands.length)
  })

  it('dispatches on the longest matching name and lists a group', async () => {
    const help = capture()
    expect(await main(['receipt', 'verify', '--help'], help.io)).toBe(0)
    expect(help.out.stdout).toMatch(/^fomo receipt verify \[options\]/)
    const group = capture()
    expect(await main(['receipt'], group.io)).toBe(2)
    expect(group.out.stdout).toContain('receipt sign')
    expect(group.out.stdout).not.toContain('tree build')
    const groupHelp = capture()
    expect(await main(['tree', '--help'], groupHelp.io)).toBe(0)
    // Three words, and a group below a command: `gateway keys` lists its commands rather than running `gateway`.
    const three = capture()
    expect(await main(['gateway', 'keys', 'add', '--help'], three.io)).toBe(0)
    expect(three.out.stdout).toMatch(/^fomo gateway keys add \[options\]/)
    const subgroup = capture()
    expect(await main(['gateway', 'keys'], subgroup.io)).toBe(2)
    expect(subgroup.out.stdout).toContain('gateway keys list')
    expect(subgroup.out.stdout).not.toMatch(/^ {2}gateway {2}/m)
    const unknown = capture()
    expect(await main(['nope'], unknown.io)).toBe(2)
    expect(unknown.out.stderr).toContain('unknown command "nope"')
  })
})

describe('errors of the operating system', () => {
  it('become one line naming the call, the path and what to do, never a stack trace', async () => {
    const missing = await readFile('/no-such-directory/receipts.ndjson').catch((e: unknown) => e)
    expect(systemErrorLine(missing)).toBe('open /no-such-directory/receipts.ndjson failed: ENOENT (check the path exists)')
    const directory = await writeFile('/', 'x').catch((e: unknown) => e)
    expect(systemErrorLine(directory)).toMatch(/^open \/ failed: EISDIR \(give a file, not a directory\)$/)
    expect(systemErrorLine(new Error('plain'))).toBeUndefined()
    expect(systemErrorLine(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeUndefined()
  })
})
