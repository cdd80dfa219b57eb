import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkRewardDomain, claimsOf, readPublishedEpoch } from '../src/chain/publication.ts'
import { readConfig } from '../src/epoch/config.ts'
import { distributorDomain, rewardLeafOf } from '../src/epoch/rewards.ts'
import { GOLDEN_DIR } from './golden.ts'
import { readFileSync } from 'node:fs'

const dir = join(GOLDEN_DIR, 'epoch')
const config = readConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')))

describe('publication binds a reward tree to one distributor', () => {
  it('every reward leaf carries the domain of the distributor the configuration names', async () => {
    const epoch = await readPublishedEpoch(dir)
    const expected = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
    for (const [, v] of epoch.rewardTree.entries()) expect(rewardLeafOf(v).domain).toBe(expected)
    expect(() => checkRewardDomain(epoch, config.domain.chainId, config.domain.verifyingContract)).not.toThrow()
    expect(claimsOf(epoch.rewardTree, rewardLeafOf(epoch.rewardTree.at(0)).account).length).toBeGreaterThan(0)
  })

  it('refuses to publish the tree on another distributor or another chain, naming both domains', async () => {
    const epoch = await readPublishedEpoch(dir)
    const other = '0x000000000000000000000000000000000000dead'
    expect(() => checkRewardDomain(epoch, config.domain.chainId, other)).toThrow(/made for another distributor .* registry 0x0{36}dead on chain 31337 has domain 0x/)
    expect(() => checkRewardDomain(epoch, 1, config.domain.verifyingContract)).toThrow(/made for another distributor/)
  })
})
