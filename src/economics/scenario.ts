/**
 * A planning scenario for `fomo simulate` (format fomo-scenario-v1, docs/scenario.md): deployments, raises,
 * epochs of usage and stakes.
 */
import { Reader, optional } from '../base/reader.ts'
import { DECIMALS } from '../base/units.ts'
import { BPS } from './math.ts'
import { readPlatform, type PlatformParameters } from './parameters.ts'
import type { Buy } from './rmo.ts'
import { MT_TOTAL_SUPPLY } from './supply.ts'

/** A planning scenario for `fomo simulate` (docs/scenario.md). All amounts in base units once read. */
export const SCENARIO_FORMAT = 'fomo-scenario-v1'

export type Scenario = {
  format: typeof SCENARIO_FORMAT
  name: string
  platform: PlatformParameters & { treasury: string }
  deployments: ScenarioDeployment[]
  epochs: ScenarioEpoch[]
}

export type ScenarioDeployment = {
  id: string
  issuer: string
  graduationDay: bigint
  totalSupply: bigint
  mtPriceUsdc: bigint | undefined
  rmo: {
    graduationTarget: bigint
    startPrice: bigint
    minRaise: bigint
    creatorFeeBps: bigint
    protocolFeeBps: bigint
    antiSnipingStartBps: bigint
    antiSnipingWindowSeconds: bigint
    launchFee: bigint
    buys: Buy[] | undefined
  }
}

export type ScenarioEpoch = {
  day: bigint
  emission: bigint | undefined
  deployments: Map<string, { opex: bigint; circulatingSupply: bigint | undefined; stakes: Map<string, bigint>; usage: Map<string, bigint> }>
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/
const ACCOUNT = /^[A-Za-z0-9_.:-]{1,66}$/
const id = (r: Reader) => r.string(ID, 'an id of lower-case letters, digits, "-" or "_" (at most 64)')
const account = (r: Reader) => r.string(ACCOUNT, 'an account name or 0x address')
const bps = (r: Reader) => r.integer(0, Number(BPS))
const flock = (r: Reader) => r.units(DECIMALS.FLOCK, 'FLOCK')
const mt = (r: Reader) => r.units(DECIMALS.MT, 'MT')
const usdc = (r: Reader) => r.units(DECIMALS.USDC, 'USDC')

/** Validates a parsed scenario document; throws a SchemaError naming the first bad field. */
export function readScenario(document: unknown): Scenario {
  const root = new Reader(SCENARIO_FORMAT, document)
  root.object(['format', 'name', 'platform', 'deployments', 'epochs'])
  root.field('format').literal([SCENARIO_FORMAT])

  const p = root.field('platform')
  const platform: Scenario['platform'] = { ...readPlatform(p, ['treasury']), treasury: optional(p.field('treasury'), account, 'treasury') }

  const ids = new Set<string>()
  const deployments = root
    .field('deployments')
    .array({ min: 1, max: 1000 })
    .map((d): ScenarioDeployment => {
      d.object(['id', 'issuer', 'graduationDay', 'totalSupply', 'mtPriceUsdc', 'rmo'])
      const idField = d.field('id')
      const deploymentId = id(idField)
      if (ids.has(deploymentId)) idField.fail('a deployment id not used before')
      ids.add(deploymentId)
      const r = d.field('rmo')
      r.object(['graduationTarget', 'startPrice', 'minRaise', 'creatorFeeBps', 'protocolFeeBps', 'antiSniping', 'launchFee', 'buys'])
      const graduationTarget = flock(r.field('graduationTarget'))
      const creatorFeeBps = optional(r.field('creatorFeeBps'), bps, 30n)
      const protocolFeeBps = optional(r.field('protocolFeeBps'), bps, 95n)
      const anti = r.field('antiSniping')
      if (anti.isPresent()) anti.object(['startBps', 'windowSeconds'])
      const antiSnipingStartBps = anti.isPresent() ? bps(anti.field('startBps')) : creatorFeeBps + protocolFeeBps
      if (antiSnipingStartBps < creatorFeeBps + protocolFeeBps)
        anti.field('startBps').fail(`at least the base fee creatorFeeBps + protocolFeeBps = ${creatorFeeBps + protocolFeeBps}`)
      const buys = r.field('buys')
      return {
        id: deploymentId,
        issuer: account(d.field('issuer')),
        graduationDay: d.field('graduationDay').integer(0, 100_000),
        totalSupply: optional(d.field('totalSupply'), mt, MT_TOTAL_SUPPLY),
        mtPriceUsdc: optional(d.field('mtPriceUsdc'), usdc, undefined),
        rmo: {
          graduationTarget,
          startPrice: r.field('startPrice').units(18, 'FLOCK per MT'),
          minRaise: optional(r.field('minRaise'), flock, graduationTarget),
          creatorFeeBps,
          protocolFeeBps,
          antiSnipingStartBps,
          antiSnipingWindowSeconds: anti.isPresent() ? anti.field('windowSeconds').integer(0, 365 * 86400) : 0n,
          launchFee: optional(r.field('launchFee'), flock, 0n),
          buys: buys.isPresent()
            ? buys.array({ max: 100_000 }).map((b): Buy => {
                b.object(['buyer', 'at', 'flock', 'mt'])
                const buyer = account(b.field('buyer'))
                const at = optional(b.field('at'), (x) => x.integer(0, 365 * 86400), 0n)
                const f = b.field('flock')
                const m = b.field('mt')
                if (f.isPresent() === m.isPresent()) b.fail('exactly one of "flock" (FLOCK to spend) or "mt" (MT to buy)')
                return f.isPresent() ? { buyer, at, flock: flock(f) } : { buyer, at, mt: mt(m) }
              })
            : undefined,
        },
      }
    })

  let lastDay = -1n
  const epochs = root
    .field('epochs')
    .array({ min: 1, max: 100_000 })
    .map((e): ScenarioEpoch => {
      e.object(['day', 'emission', 'deployments'])
      const dayField = e.field('day')
      const day = dayField.integer(0, 1_000_000)
      if (day <= lastDay) dayField.fail(`a day after the previous epoch's day ${lastDay} (epochs in increasing order)`)
      lastDay = day
      const perDeployment = new Map<string, ScenarioEpoch['deployments'] extends Map<string, infer V> ? V : never>()
      for (const [depId, de] of e.field('deployments').entries()) {
        if (!ids.has(depId)) de.fail(`a deployment declared in $.deployments (known: ${[...ids].join(', ')})`)
        de.object(['opex', 'circulatingSupply', 'stakes', 'usage'])
        const readMap = (r: Reader, read: (x: Reader) => bigint) => {
          const map = new Map<string, bigint>()
          if (r.isPresent()) for (const [acct, v] of r.entries()) map.set(account(new Reader(SCENARIO_FORMAT, acct, `${v.path} (key)`)), read(v))
          return map
        }
        perDeployment.set(depId, {
          opex: optional(de.field('opex'), usdc, 0n),
          circulatingSupply: optional(de.field('circulatingSupply'), mt, undefined),
          stakes: readMap(de.field('stakes'), mt),
          usage: readMap(de.field('usage'), usdc),
        })
      }
      return { day, emission: optional(e.field('emission'), flock, undefined), deployments: perDeployment }
    })

  return {
    format: SCENARIO_FORMAT,
    name: optional(root.field('name'), (r) => r.string(), 'scenario'),
    platform,
    deployments,
    epochs,
  }
}

