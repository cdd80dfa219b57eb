/**
 * Reading scenarios: malformed documents are refused naming the JSON path.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SchemaError } from '../base/errors.ts'
import { readScenario } from './scenario.ts'
import { ScenarioError, simulate } from './simulate.ts'

const fixture = () => JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/scenarios/qwenalice.json'), 'utf8'))

function schemaErrorOf(mutate: (s: any) => void): SchemaError {
  const s = fixture()
  mutate(s)
  try {
    readScenario(s)
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError)
    return error as SchemaError
  }
  throw new Error('expected a SchemaError')
}

describe('scenario validation names the bad field', () => {
  it.each([
    ['wrong format', (s: any) => (s.format = 'fomo-scenario-v0'), '$.format', 'one of "fomo-scenario-v1"'],
    ['unknown field', (s: any) => (s.platform.maxDiscount = 3000), '$.platform.maxDiscount', 'no unknown field'],
    ['number amount', (s: any) => (s.platform.dailyEmission = 20000), '$.platform.dailyEmission', 'decimal string of FLOCK'],
    ['too many decimals', (s: any) => (s.epochs[1].deployments.qwenalice.usage.bob = '1.0000001'), 'usage.bob', 'at most 6 fraction digits'],
    ['negative', (s: any) => (s.epochs[1].deployments.qwenalice.opex = '-5'), '.opex', 'non-negative'],
    ['hex amount', (s: any) => (s.deployments[0].rmo.graduationTarget = '0x10'), '.graduationTarget', 'decimal string'],
    ['bps above 100 %', (s: any) => (s.platform.maxDiscountBps = 10001), '$.platform.maxDiscountBps', 'integer from 0 to 10000'],
    ['unknown deployment', (s: any) => (s.epochs[0].deployments.nope = { usage: {} }), '$.epochs[0].deployments.nope', 'deployment declared'],
    ['epochs out of order', (s: any) => (s.epochs[1].day = 0), '$.epochs[1].day', 'increasing order'],
    ['duplicate deployment id', (s: any) => (s.deployments[1].id = 'curve-example'), '$.deployments[1].id', 'not used before'],
    ['buy with both inputs', (s: any) => (s.deployments[0].rmo.buys[0].mt = '5'), '$.deployments[0].rmo.buys[0]', 'exactly one of'],
    ['anti-sniping below base fee', (s: any) => (s.deployments[1].rmo.antiSniping.startBps = 100), 'antiSniping.startBps', 'at least the base fee'],
  ])('%s', (_name, mutate, path, expected) => {
    const error = schemaErrorOf(mutate)
    expect(error.message).toContain(path)
    expect(error.message).toContain(expected)
  })

  it('rejects an infeasible curve before simulating', () => {
    const s = fixture()
    s.deployments[0].rmo.graduationTarget = '40000'
    expect(() => simulate(readScenario(s))).toThrow(/G > S \* P0/)
  })

  it('rejects usage for a deployment whose raise failed, and stakes above circulating supply', () => {
    const failed = fixture()
    failed.deployments[1].rmo.buys = [{ buyer: 'bob', flock: '10' }]
    expect(() => simulate(readScenario(failed))).toThrow(ScenarioError)
    const overStaked = fixture()
    overStaked.epochs[1].deployments.qwenalice.stakes.bob = '700000'
    expect(() => simulate(readScenario(overStaked))).toThrow(/above the circulating supply/)
  })

  it('refunds every buyer of a failed raise their curve input, keeping fees', () => {
    const s = fixture()
    s.deployments[1].rmo.buys = [{ buyer: 'bob', at: 7200, flock: '10' }]
    s.epochs = [{ day: 0, deployments: {} }]
    const launch = simulate(readScenario(s)).launches[1]!
    expect(launch.raise.outcome).toBe('failed')
    expect(launch.raise.buyers.get('bob')).toMatchObject({ curveIn: 10n * 10n ** 18n, refund: 10n * 10n ** 18n })
    expect(launch.raise.buyers.get('bob')!.fees > 0n).toBe(true)
  })
})
