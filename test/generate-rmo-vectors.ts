/**
 * Writes fixtures/rmo/vectors.json: RMO sales computed by src/economics/rmo.ts (`simulateRaise`), which
 * test/contracts/launch.test.ts replays on chain (MTLaunchFactory, RmoSale) comparing every number to the base unit.
 * Run by hand after a change to the curve or the fees (npx tsx test/generate-rmo-vectors.ts); the test fails while
 * the committed file is not what this script renders. The reader of the format is here too, next to its writer.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Reader } from '../src/base/reader.ts'
import { createCurve, simulateRaise, type Buy, type FeeSchedule, type RaiseOutcome } from '../src/economics/rmo.ts'
import { allocateSupply } from '../src/economics/supply.ts'
import { WAD } from '../src/economics/math.ts'

export const RMO_VECTORS_FORMAT = 'fomo-rmo-vectors-v1'
export const RMO_VECTORS = fileURLToPath(new URL('../fixtures/rmo/vectors.json', import.meta.url))

const E = 10n ** 18n
/** S: every launch sells the token's public sale allocation, 40 % of 1,000,000 MT. */
const S = allocateSupply().publicSale
const PAPER_FEES = { creatorFeeBps: 30n, protocolFeeBps: 95n }

type Spec = {
  name: string
  description: string
  graduationTarget: bigint
  startPrice: bigint
  fees: FeeSchedule
  minRaise: bigint
  durationSeconds: bigint
  buys: Buy[]
  /** The outcome the vector is for, checked here so that an edit cannot silently drop its case. */
  outcome: RaiseOutcome
}

const buy = (buyer: string, at: bigint, order: { flock: bigint } | { mt: bigint }): Buy => ({ buyer, at, ...order }) as Buy

export const SPECS: Spec[] = [
  {
    name: 'paper',
    description:
      "The paper's curve (S 400,000, G 50,000, P0 0.1): 100 FLOCK buys S(100) = 999.500249875062468765 MT; buys by FLOCK and by exact MT at launch, inside and after a 600 s anti-sniping window (1,125 bps at launch), the last crossing G",
    graduationTarget: 50_000n * E,
    startPrice: E / 10n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 1125n, antiSnipingWindowSeconds: 600n },
    minRaise: 25_000n * E,
    durationSeconds: 86_400n,
    buys: [
      buy('alice', 0n, { flock: 100n * E }),
      buy('bob', 0n, { mt: 1000n * E }),
      buy('carol', 1n, { flock: 12_345_678n * 10n ** 14n }),
      buy('alice', 299n, { mt: 12_345_678_901_234_567_890_123n }),
      buy('bob', 599n, { flock: 1n }),
      buy('carol', 600n, { mt: 1n }),
      buy('dave', 601n, { flock: 20_000n * E }),
      buy('alice', 3600n, { flock: 30_000n * E }),
    ],
    outcome: 'graduated',
  },
  {
    name: 'exact-mt-crossing-g',
    description: 'Paper curve: an exact-MT buy for more than the rest of S fills up to G and receives exactly the rest of S',
    graduationTarget: 50_000n * E,
    startPrice: E / 10n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 125n, antiSnipingWindowSeconds: 0n },
    minRaise: 50_000n * E,
    durationSeconds: 3600n,
    buys: [buy('alice', 5n, { flock: 49_000n * E }), buy('bob', 5n, { mt: 100_000n * E })],
    outcome: 'graduated',
  },
  {
    name: 'odd-failed',
    description:
      'Odd G and P0, the largest surcharge (10,000 bps at launch) over an odd 7 s window, wei-sized buys; never reaches the minimum raise (= G): fails, curve input refunded, fees kept',
    graduationTarget: 77_777_777_777_777_777_777_777n,
    startPrice: 123_456_789_123_456_789n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 10_000n, antiSnipingWindowSeconds: 7n },
    minRaise: 77_777_777_777_777_777_777_777n,
    durationSeconds: 100n,
    buys: [
      buy('alice', 0n, { flock: 1n }),
      buy('bob', 0n, { mt: 1n }),
      buy('carol', 1n, { flock: 3n }),
      buy('alice', 2n, { mt: 7n }),
      buy('bob', 3n, { flock: 9999n }),
      buy('carol', 6n, { mt: 333_333_333_333_333_333_333n }),
      buy('dave', 7n, { flock: 1_000_000_000_000_000_000_001n }),
      buy('alice', 8n, { mt: 1n }),
      buy('bob', 8n, { flock: 10_000n * E + 7n }),
    ],
    outcome: 'failed',
  },
  {
    name: 'flat',
    description: 'The flattest curve S allows: G = S*P0 + 1 wei (den = WAD), no anti-sniping window',
    graduationTarget: 40_000n * E + 1n,
    startPrice: E / 10n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 125n, antiSnipingWindowSeconds: 0n },
    minRaise: E,
    durationSeconds: 1000n,
    buys: [buy('alice', 1n, { flock: 39_999n * E }), buy('bob', 2n, { mt: E }), buy('carol', 3n, { flock: 5n * E })],
    outcome: 'graduated',
  },
  {
    name: 'steep-deadline',
    description:
      'A steep curve of wei (P0 = 1 wei per MT, G = 1,000,003 wei) over a 1,000 s window; ends above the minimum raise and below G: graduates at the deadline',
    graduationTarget: 1_000_003n,
    startPrice: 1n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 2000n, antiSnipingWindowSeconds: 1000n },
    minRaise: 500_000n,
    durationSeconds: 2000n,
    buys: [
      buy('alice', 0n, { flock: 1n }),
      buy('bob', 10n, { mt: 1n }),
      buy('carol', 500n, { flock: 499_999n }),
      buy('alice', 999n, { mt: 10n ** 22n }),
      buy('bob', 1000n, { flock: 3n }),
      buy('dave', 1999n, { mt: 12_345n * E }),
    ],
    outcome: 'graduated-at-deadline',
  },
  {
    name: 'large',
    description:
      'G near the contract bound (3e29 base units; G*G*WAD < 2^256) and P0 = 700,000 FLOCK per MT: 512-bit intermediates; a day-long window; an exact-MT buy of all of S crosses G',
    graduationTarget: 3n * 10n ** 29n,
    startPrice: 7n * 10n ** 23n,
    fees: { ...PAPER_FEES, antiSnipingStartBps: 500n, antiSnipingWindowSeconds: 86_400n },
    minRaise: 15n * 10n ** 28n,
    durationSeconds: 3n * 86_400n,
    buys: [
      buy('alice', 0n, { flock: 10n ** 29n }),
      buy('bob', 43_200n, { mt: 10n ** 23n }),
      buy('carol', 86_000n, { flock: 12_345_678_901_234_567_890_123_456_789n }),
      buy('dave', 86_400n, { mt: S }),
    ],
    outcome: 'graduated',
  },
]

const str = (v: bigint) => v.toString()

/** The vectors, as the committed file holds them. */
export function renderRmoVectors(): string {
  const vectors = SPECS.map((spec) => {
    const curve = createCurve({ saleSupply: S, graduationTarget: spec.graduationTarget, startPrice: spec.startPrice })
    const result = simulateRaise(curve, spec.fees, spec.buys, spec.minRaise)
    if (result.outcome !== spec.outcome) throw new Error(`${spec.name}: the buys end ${result.outcome}, the vector is for ${spec.outcome}`)
    const last = spec.buys.at(-1)!.at
    if (last >= spec.durationSeconds) throw new Error(`${spec.name}: a buy at ${last} s is not before the sale's end at ${spec.durationSeconds} s`)
    return {
      name: spec.name,
      description: spec.description,
      curve: { saleSupply: str(S), graduationTarget: str(curve.graduationTarget), startPrice: str(curve.startPrice), xNum: str(curve.xNum), yNum: str(curve.yNum), den: str(curve.den) },
      fees: {
        creatorFeeBps: str(spec.fees.creatorFeeBps),
        protocolFeeBps: str(spec.fees.protocolFeeBps),
        antiSnipingStartBps: str(spec.fees.antiSnipingStartBps),
        antiSnipingWindowSeconds: str(spec.fees.antiSnipingWindowSeconds),
      },
      minRaise: str(spec.minRaise),
      durationSeconds: str(spec.durationSeconds),
      buys: spec.buys.map((b) => ({ buyer: b.buyer, at: str(b.at), ...(b.mt !== undefined ? { mt: str(b.mt) } : { flock: str(b.flock) }) })),
      fills: result.fills.map((f) => ({
        buyer: f.buyer,
        at: str(f.at),
        curveIn: str(f.curveIn),
        unfilled: str(f.unfilled),
        mtOut: str(f.mtOut),
        creatorFee: str(f.creatorFee),
        protocolFee: str(f.protocolFee),
        antiSnipingFee: str(f.antiSnipingFee),
        totalPaid: str(f.totalPaid),
        raisedAfter: str(f.raisedAfter),
        graduates: f.graduates,
      })),
      result: {
        outcome: result.outcome,
        raised: str(result.raised),
        sold: str(result.sold),
        creatorFees: str(result.creatorFees),
        protocolFees: str(result.protocolFees),
        buyers: Object.fromEntries([...result.buyers].map(([name, b]) => [name, { curveIn: str(b.curveIn), fees: str(b.fees), mt: str(b.mt), refund: str(b.refund) }])),
      },
    }
  })
  const document = {
    format: RMO_VECTORS_FORMAT,
    note: 'Generated by test/generate-rmo-vectors.ts from src/economics/rmo.ts; test/contracts/launch.test.ts replays each vector on chain. Amounts are decimal strings of base units (FLOCK and MT, 18 decimals), prices WAD; `at` is seconds since launch. Do not edit.',
    wad: str(WAD),
    vectors,
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

export type RmoVector = {
  name: string
  description: string
  curve: { saleSupply: bigint; graduationTarget: bigint; startPrice: bigint; xNum: bigint; yNum: bigint; den: bigint }
  fees: FeeSchedule
  minRaise: bigint
  durationSeconds: bigint
  buys: Buy[]
  fills: Array<{ buyer: string; at: bigint; curveIn: bigint; unfilled: bigint; mtOut: bigint; creatorFee: bigint; protocolFee: bigint; antiSnipingFee: bigint; totalPaid: bigint; raisedAfter: bigint; graduates: boolean }>
  result: { outcome: RaiseOutcome; raised: bigint; sold: bigint; creatorFees: bigint; protocolFees: bigint; buyers: Map<string, { curveIn: bigint; fees: bigint; mt: bigint; refund: bigint }> }
}

/** Reads and validates a `fomo-rmo-vectors-v1` document (already parsed from JSON). */
export function readRmoVectors(value: unknown): RmoVector[] {
  const r = new Reader(RMO_VECTORS_FORMAT, value)
  r.object(['format', 'note', 'wad', 'vectors'])
  r.field('format').literal([RMO_VECTORS_FORMAT])
  const name = (x: Reader) => x.string(/^[a-z][a-z0-9-]*$/, 'a lower-case name')
  const bool = (x: Reader) => (typeof x.value === 'boolean' ? x.value : x.fail('true or false'))
  /** An object of exactly `keys` (and `extra`, read by the caller), each of `keys` a decimal string of base units. */
  const amounts = <K extends string>(x: Reader, keys: readonly K[], extra: readonly string[] = []) => {
    x.object([...keys, ...extra])
    return Object.fromEntries(keys.map((k) => [k, x.field(k).baseUnits()])) as Record<K, bigint>
  }
  return r
    .field('vectors')
    .array({ min: 1 })
    .map((v) => {
      v.object(['name', 'description', 'curve', 'fees', 'minRaise', 'durationSeconds', 'buys', 'fills', 'result'])
      const result = v.field('result')
      return {
        name: name(v.field('name')),
        description: v.field('description').string(),
        curve: amounts(v.field('curve'), ['saleSupply', 'graduationTarget', 'startPrice', 'xNum', 'yNum', 'den'] as const),
        fees: amounts(v.field('fees'), ['creatorFeeBps', 'protocolFeeBps', 'antiSnipingStartBps', 'antiSnipingWindowSeconds'] as const),
        minRaise: v.field('minRaise').baseUnits(),
        durationSeconds: v.field('durationSeconds').baseUnits(),
        buys: v
          .field('buys')
          .array({ min: 1 })
          .map((b) => {
            const o = b.object(['buyer', 'at', 'flock', 'mt'])
            if ('flock' in o === 'mt' in o) b.fail('one of flock or mt')
            const base = { buyer: name(b.field('buyer')), at: b.field('at').baseUnits() }
            return ('mt' in o ? { ...base, mt: b.field('mt').baseUnits() } : { ...base, flock: b.field('flock').baseUnits() }) as Buy
          }),
        fills: v
          .field('fills')
          .array()
          .map((f) => ({
            ...amounts(f, ['at', 'curveIn', 'unfilled', 'mtOut', 'creatorFee', 'protocolFee', 'antiSnipingFee', 'totalPaid', 'raisedAfter'] as const, ['buyer', 'graduates']),
            buyer: name(f.field('buyer')),
            graduates: bool(f.field('graduates')),
          })),
        result: {
          ...amounts(result, ['raised', 'sold', 'creatorFees', 'protocolFees'] as const, ['outcome', 'buyers']),
          outcome: result.field('outcome').literal(['graduated', 'graduated-at-deadline', 'failed'] as const),
          buyers: new Map(
            result
              .field('buyers')
              .entries()
              .map(([k, b]) => [k, amounts(b, ['curveIn', 'fees', 'mt', 'refund'] as const)]),
          ),
        },
      }
    })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(RMO_VECTORS, renderRmoVectors())
  console.log(`wrote ${RMO_VECTORS}`)
}
