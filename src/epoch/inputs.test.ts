/**
 * Epoch inputs: version 2 records where a stake snapshot was read and round-trips it; version 1 is still read.
 */
import { describe, expect, it } from 'vitest'
import { SchemaError } from '../base/errors.ts'
import { worldConfig, DEPLOYMENT_A } from '../../test/aggregator/world.ts'
import { EPOCH_INPUTS_FORMAT, EPOCH_INPUTS_FORMAT_V1, epochInputsJson, readEpochInputs } from './inputs.ts'

const config = worldConfig()
const staking = '0x00000000000000000000000000000000000000aa'
const account = '0x00000000000000000000000000000000000000bb'

describe('epoch inputs', () => {
  it('version 2 records the snapshot source and reads back what it wrote', () => {
    const doc = { format: EPOCH_INPUTS_FORMAT, epoch: 7, deployments: { [DEPLOYMENT_A]: { opex: '1.5', circulatingSupply: '600000', stakes: { [account]: '10' }, snapshot: { staking, block: '123456' } } } }
    const inputs = readEpochInputs(doc, config)
    expect(inputs.deployments.get(DEPLOYMENT_A)!.snapshot).toEqual({ staking, block: 123_456n })
    expect(epochInputsJson(inputs.epoch, inputs.deployments)).toEqual(doc)
  })

  it('reads version 1 (no snapshot source) and writes it as version 2', () => {
    const inputs = readEpochInputs({ format: EPOCH_INPUTS_FORMAT_V1, epoch: 7, deployments: { [DEPLOYMENT_A]: { opex: '2' } } }, config)
    expect(inputs.deployments.get(DEPLOYMENT_A)).toEqual({ opex: 2_000_000n, circulatingSupply: undefined, stakes: new Map(), snapshot: undefined })
    expect(epochInputsJson(inputs.epoch, inputs.deployments).format).toBe(EPOCH_INPUTS_FORMAT)
  })

  it('names a snapshot source in a version 1 document, or a block that is not a decimal string', () => {
    const v1 = { format: EPOCH_INPUTS_FORMAT_V1, epoch: 7, deployments: { [DEPLOYMENT_A]: { opex: '2', snapshot: { staking, block: '1' } } } }
    expect(() => readEpochInputs(v1, config)).toThrow(SchemaError)
    expect(() => readEpochInputs(v1, config)).toThrow(/snapshot/)
    const badBlock = { format: EPOCH_INPUTS_FORMAT, epoch: 7, deployments: { [DEPLOYMENT_A]: { opex: '2', snapshot: { staking, block: 12 } } } }
    expect(() => readEpochInputs(badBlock, config)).toThrow(/\$\.deployments\[.*\]\.snapshot\.block.*a block number as a decimal string/)
  })
})
