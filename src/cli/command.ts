/**
 * The command framework of the `fomo` CLI: option specs, parsing, usage errors and exit codes.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { BaseError } from '../base/errors.ts'
import { parseUnits } from '../base/units.ts'

/** Writes of a command; tests pass buffers, the binary passes the process streams. */
export type Io = {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  cwd: string
  /** Whether stderr is a terminal (progress bars only then). */
  interactive: boolean
}

export type OptionSpec = {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  description: string
  /** Shown as `--name <valueName>`. */
  valueName?: string
}

export type Command = {
  name: string
  summary: string
  /** Positional arguments as shown in usage, e.g. `<scenario.json>`. */
  positionals?: string
  options: Record<string, OptionSpec>
  examples?: string[]
  run: (args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io: Io) => Promise<number | void>
}

export class UsageError extends BaseError {
  override name = 'UsageError'
  constructor(message: string, command?: string) {
    super('USAGE', message, { metaMessages: [`Run \`fomo ${command ? `${command} ` : ''}--help\` for usage.`] })
  }
}

export function helpText(command: Command): string {
  const lines = [`fomo ${command.name}${command.positionals ? ` ${command.positionals}` : ''} [options]`, '', command.summary, '', 'Options:']
  const rows = Object.entries({ ...command.options, help: { type: 'boolean', short: 'h', description: 'Show this help' } as OptionSpec }).map(([name, o]) => [
    `  ${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`,
    o.description,
  ])
  const width = Math.max(...rows.map((r) => (r[0] as string).length)) + 2
  for (const [left, right] of rows) lines.push(`${(left as string).padEnd(width)}${right}`)
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`))
  return `${lines.join('\n')}\n`
}

export async function runCommand(command: Command, argv: string[], io: Io): Promise<number> {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } }
  for (const [name, o] of Object.entries(command.options))
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message, command.name)
  }
  if (parsed.values.help) {
    io.stdout(helpText(command))
    return 0
  }
  return (await command.run(parsed as never, io)) ?? 0
}

/** The one string value of an option, or an error naming it. */
export function requireString(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name]
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing --${name}`, command)
  return v
}

/** A `--staking <deploymentId>=<MTStaking address>` value, as `fomo inputs` and `fomo audit` take it. */
export function parseStakingPair(pair: string, command: string): { deploymentId: `0x${string}`; staking: `0x${string}` } {
  const m = /^(0x[0-9a-fA-F]{64})=(0x[0-9a-fA-F]{40})$/.exec(pair)
  if (!m) throw new UsageError(`--staking ${pair}: expected <deploymentId>=<MTStaking address>`, command)
  return { deploymentId: m[1]!.toLowerCase() as `0x${string}`, staking: m[2] as `0x${string}` }
}

/** A `--block` value: a block number (below 2^64). */
export function parseBlockNumber(value: string, command: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value) || BigInt(value) >= 1n << 64n) throw new UsageError(`--block must be a block number (got ${JSON.stringify(value.length > 30 ? `${value.slice(0, 27)}...` : value)})`, command)
  return BigInt(value)
}

/**
 * An amount of whole tokens (`2500`, `0.125`) given as `--name`, exactly in base units of a token of `decimals`;
 * undefined when the option is not given. Zero is refused unless `positive` is false.
 */
export function parseTokens(values: Record<string, unknown>, name: string, decimals: number, command: string, options: { unit?: string; positive?: boolean } = {}): bigint | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  let parsed: bigint
  try {
    if (typeof v !== 'string') throw new Error()
    parsed = parseUnits(v, decimals)
  } catch {
    throw new UsageError(`--${name} must be an amount${options.unit ? ` of ${options.unit}` : ''} in whole tokens with at most ${decimals} fraction digits, e.g. 2500 or 0.125 (got ${JSON.stringify(v)})`, command)
  }
  if (options.positive !== false && parsed === 0n) throw new UsageError(`--${name} must be positive`, command)
  return parsed
}

/** `parseTokens` of an option that must be given. */
export function requireTokens(values: Record<string, unknown>, name: string, decimals: number, command: string, options: { unit?: string; positive?: boolean } = {}): bigint {
  requireString(values, name, command)
  return parseTokens(values, name, decimals, command, options)!
}
