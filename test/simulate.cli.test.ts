import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FIXTURES, fomo } from './helpers.ts'

const FIXTURE = join(FIXTURES, 'scenarios', 'qwenalice.json')

describe('fomo simulate', () => {
  it('prints the paper numbers for the QwenALICE scenario as JSON', async () => {
    const { code, stdout } = await fomo(['simulate', FIXTURE, '--json'])
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report.format).toBe('fomo-simulation-report-v1')
    const example = report.deployments.find((d: { id: string }) => d.id === 'curve-example')
    expect(example.rmo.virtualMtReserve).toBe('2000000')
    expect(example.rmo.virtualFlockReserve).toBe('200000')
    expect(example.rmo.fills[0].mtOut).toBe('999.500249875062468765')
    expect(Number(example.rmo.fills[0].averagePrice).toFixed(5)).toBe('0.10005')
    expect(example.dexPrice).toBe('0.125')

    const qwen = report.deployments.find((d: { id: string }) => d.id === 'qwenalice')
    expect(qwen.proceeds).toEqual({ protocol: '25000', stakingIncentives: '25000', liquidity: '50000' })
    expect(qwen.rmo.sold).toBe('400000')
    // An exact-MT buy gets at least that much: the least FLOCK input, so at most a few wei over.
    expect(qwen.rmo.buyers.find((b: { buyer: string }) => b.buyer === 'bob').mt).toMatch(/^50000(\.00000000000000000\d)?$/)

    const launch = report.epochs[0].deployments[0]
    expect(launch.circulatingSupply).toBe('600000')
    expect(launch.users[0]).toMatchObject({ account: 'bob', discountBps: 1666 })

    const month = report.epochs[1]
    const d = month.deployments[0]
    expect(d.netRevenue).toBe('10000')
    expect(d.waterfall).toEqual({ flockBuyback: '3000', treasury: '3000', mtBuybackBurn: '3000', issuerYield: '1000' })
    expect(d.ageFactor).toBe('0.833333333333333333')
    expect(d.emissionShare).toBe('20000')
    expect(d.issuerBonus).toBe('2000')
    expect(d.stakerPool).toBe('18000')
    const bob = d.users.find((u: { account: string }) => u.account === 'bob')
    expect(bob).toMatchObject({ discountBps: 1666, gross: '2500', spendShareBps: 500 })
    expect(bob.rewards.emission).toBe('900')
    const alice = month.rewards.find((r: { account: string; token: string }) => r.account === 'alice' && r.token === 'USDC')
    expect(alice.amount).toBe('1000')
  })

  it('prints readable tables by default', async () => {
    const { code, stdout } = await fomo(['simulate', FIXTURE])
    expect(code).toBe(0)
    expect(stdout).toContain('virtual MT reserve y0                    2,000,000')
    expect(stdout).toMatch(/bob\s+50,000\s+16\.66%\s+2,500\s+2,083\.5\s+5\.00%\s+900\s/)
  })

  it('rejects a malformed scenario naming the field, and prints no report', async () => {
    const scenario = JSON.parse(await readFile(FIXTURE, 'utf8'))
    scenario.epochs[1].deployments.qwenalice.usage.bob = 2500
    const dir = await mkdtemp(join(tmpdir(), 'fomo-sim-'))
    const path = join(dir, 'bad.json')
    await writeFile(path, JSON.stringify(scenario))
    const { code, stdout, stderr } = await fomo(['simulate', path, '--json'])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('$.epochs[1].deployments.qwenalice.usage.bob')
    expect(stderr).toContain('decimal string of USDC')
  })

  it('answers --help and fails on unknown options with a usage error', async () => {
    const help = await fomo(['simulate', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('fomo simulate <scenario.json>')
    const bad = await fomo(['simulate', FIXTURE, '--jsn'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("Unknown option '--jsn'")
    const missing = await fomo(['simulate', '/nonexistent/scenario.json'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('ENOENT')
  })
})
