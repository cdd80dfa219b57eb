/**
 * The RMO sale: a constant-product curve over virtual reserves (paper 3.3).
 *
 * The reserves are kept as exact rationals over one denominator,
 * x0 = xNum/den and y0 = yNum/den with den = G*WAD - S*P0, so that
 * S(D) = y0*D/(x0 + D) = yNum*D / (xNum + D*den) needs a single rounding
 * and S(G) = S holds exactly.
 */
import { InvalidParameterError } from '../base/errors.ts'
import { BPS, WAD, assertNonNegative, minBig, mulDivDown, mulDivUp } from './math.ts'

export type CurveParameters = {
  /** S: MT base units sold when the raise reaches G. */
  saleSupply: bigint
  /** G: graduation target, FLOCK base units. */
  graduationTarget: bigint
  /** P0: starting marginal price, FLOCK per MT in WAD. */
  startPrice: bigint
}

export type Curve = CurveParameters & {
  xNum: bigint
  yNum: bigint
  den: bigint
  /** Virtual MT reserve y0, rounded down (display; formulas use the rationals). */
  y0: bigint
  /** Virtual FLOCK reserve x0, rounded down. */
  x0: bigint
}

export function isFeasible({ saleSupply, graduationTarget, startPrice }: CurveParameters): boolean {
  return graduationTarget * WAD > saleSupply * startPrice
}

export function createCurve(parameters: CurveParameters): Curve {
  const { saleSupply: S, graduationTarget: G, startPrice: P0 } = parameters
  if (S <= 0n) throw new InvalidParameterError('saleSupply', 'a positive amount of MT', S)
  if (G <= 0n) throw new InvalidParameterError('graduationTarget', 'a positive amount of FLOCK', G)
  if (P0 <= 0n) throw new InvalidParameterError('startPrice', 'a positive WAD price', P0)
  if (!isFeasible(parameters))
    throw new InvalidParameterError(
      'graduationTarget',
      `G > S * P0 (the curve is undefined otherwise; S * P0 = ${(S * P0) / WAD} base units)`,
      G,
    )
  const den = G * WAD - S * P0
  const xNum = G * S * P0
  const yNum = G * S * WAD
  return { ...parameters, xNum, yNum, den, y0: yNum / den, x0: xNum / den }
}

function assertRaise(curve: Curve, raised: bigint): void {
  assertNonNegative('raised', raised)
  if (raised > curve.graduationTarget)
    throw new InvalidParameterError('raised', `at most the graduation target ${curve.graduationTarget}`, raised)
}

/** S(D): MT sold once D FLOCK went into the curve, rounded down (against the buyer). */
export function soldAt(curve: Curve, raised: bigint): bigint {
  assertRaise(curve, raised)
  return (curve.yNum * raised) / (curve.xNum + raised * curve.den)
}

/** Marginal price x(D)/y(D) = (x0 + D)^2 / (x0*y0), FLOCK per MT in WAD, rounded down. */
export function marginalPrice(curve: Curve, raised: bigint): bigint {
  assertRaise(curve, raised)
  const x = curve.xNum + raised * curve.den
  return mulDivDown(WAD * x, x, curve.xNum * curve.yNum)
}

/** Average execution price of a fill, FLOCK per MT in WAD, rounded up. */
export function averagePrice(flockIn: bigint, mtOut: bigint): bigint {
  if (mtOut === 0n) return 0n
  return mulDivUp(flockIn, WAD, mtOut)
}

/** The least raise D at which S(D) >= sold (inverse of soldAt). */
export function raiseForSold(curve: Curve, sold: bigint): bigint {
  assertNonNegative('sold', sold)
  if (sold > curve.saleSupply) throw new InvalidParameterError('sold', `at most the sale supply ${curve.saleSupply}`, sold)
  // yNum*D >= sold*(xNum + D*den)  <=>  D >= sold*xNum / (yNum - sold*den)
  const d = curve.yNum - sold * curve.den
  return mulDivUp(sold, curve.xNum, d)
}

export type FeeSchedule = {
  creatorFeeBps: bigint
  protocolFeeBps: bigint
  /** Total fee rate at launch; decays linearly to creator + protocol over the window. */
  antiSnipingStartBps: bigint
  antiSnipingWindowSeconds: bigint
}

export const DEFAULT_FEES: FeeSchedule = {
  creatorFeeBps: 30n,
  protocolFeeBps: 95n,
  antiSnipingStartBps: 125n,
  antiSnipingWindowSeconds: 0n,
}

/**
 * The anti-sniping surcharge above the base fee at `elapsed` seconds after
 * launch: (start - base) * (window - elapsed) / window, rounded down.
 */
export function antiSnipingFeeBps(fees: FeeSchedule, elapsed: bigint): bigint {
  const base = fees.creatorFeeBps + fees.protocolFeeBps
  if (fees.antiSnipingStartBps < base)
    throw new InvalidParameterError('antiSnipingStartBps', `at least the base fee ${base} bps`, fees.antiSnipingStartBps)
  assertNonNegative('elapsed', elapsed)
  const window = fees.antiSnipingWindowSeconds
  if (window === 0n || elapsed >= window) return 0n
  return ((fees.antiSnipingStartBps - base) * (window - elapsed)) / window
}

/** The curve input of an order for `mt` MT at (raised, sold): the least FLOCK buying at least that much, the rest of S at most, up to G. */
export function curveInputForMt(curve: Curve, { raised, sold, mt }: { raised: bigint; sold: bigint; mt: bigint }): bigint {
  if (mt <= 0n) throw new InvalidParameterError('mt', 'a positive amount of MT', mt)
  return minBig(raiseForSold(curve, minBig(sold + mt, curve.saleSupply)), curve.graduationTarget) - raised
}

export type BuyQuote = {
  /** FLOCK that went into the curve (after a partial fill). */
  curveIn: bigint
  /** FLOCK of the order not filled because the target was reached. */
  unfilled: bigint
  mtOut: bigint
  creatorFee: bigint
  protocolFee: bigint
  antiSnipingFee: bigint
  /** curveIn + all fees: what the buyer pays. */
  totalPaid: bigint
  raisedAfter: bigint
  graduates: boolean
  /** FLOCK per MT in WAD, rounded up. */
  averagePrice: bigint
}

/**
 * Quotes a buy of `flockIn` FLOCK of curve input at raise level `raised`.
 * Fees are charged on the filled curve input, on top of it, rounded up.
 * A buy crossing G is filled up to G; the rest is unfilled and not charged.
 */
export function quoteBuy(
  curve: Curve,
  fees: FeeSchedule,
  { raised, flockIn, elapsed }: { raised: bigint; flockIn: bigint; elapsed: bigint },
): BuyQuote {
  assertRaise(curve, raised)
  if (flockIn <= 0n) throw new InvalidParameterError('flockIn', 'a positive amount of FLOCK', flockIn)
  const curveIn = minBig(flockIn, curve.graduationTarget - raised)
  if (curveIn === 0n) throw new InvalidParameterError('raised', 'a raise below the graduation target (the sale is over)', raised)
  const raisedAfter = raised + curveIn
  const graduates = raisedAfter === curve.graduationTarget
  // At G the buyer receives exactly the rest of S, so the sale sells S.
  const mtOut = (graduates ? curve.saleSupply : soldAt(curve, raisedAfter)) - soldAt(curve, raised)
  const creatorFee = mulDivUp(curveIn, fees.creatorFeeBps, BPS)
  const protocolFee = mulDivUp(curveIn, fees.protocolFeeBps, BPS)
  const antiSnipingFee = mulDivUp(curveIn, antiSnipingFeeBps(fees, elapsed), BPS)
  return {
    curveIn,
    unfilled: flockIn - curveIn,
    mtOut,
    creatorFee,
    protocolFee,
    antiSnipingFee,
    totalPaid: curveIn + creatorFee + protocolFee + antiSnipingFee,
    raisedAfter,
    graduates,
    averagePrice: averagePrice(curveIn, mtOut),
  }
}

/** Initial DEX price: paired FLOCK over paired MT, FLOCK per MT in WAD, rounded down. */
export function dexPrice(liquidityFlock: bigint, liquidityMt: bigint): bigint {
  if (liquidityMt <= 0n) throw new InvalidParameterError('liquidityMt', 'a positive amount of MT', liquidityMt)
  return mulDivDown(liquidityFlock, WAD, liquidityMt)
}

export type Buy = {
  buyer: string
  /** Seconds since launch. */
  at: bigint
} & ({ flock: bigint; mt?: undefined } | { mt: bigint; flock?: undefined })

export type RaiseOutcome = 'graduated' | 'graduated-at-deadline' | 'failed'

export type RaiseResult = {
  fills: Array<{ buyer: string; at: bigint } & BuyQuote>
  raised: bigint
  sold: bigint
  outcome: RaiseOutcome
  creatorFees: bigint
  /** Protocol and anti-sniping fees (treasury). */
  protocolFees: bigint
  /** Per buyer: FLOCK into the curve, fees, MT bought, refund if the raise failed. */
  buyers: Map<string, { curveIn: bigint; fees: bigint; mt: bigint; refund: bigint }>
}

/**
 * Runs the sale over an ordered list of buys. A buy may name its FLOCK input
 * or an exact MT amount (the least FLOCK buying at least that much). Buys after
 * graduation are an error. At the end: graduated at G, graduated at the
 * deadline with at least `minRaise`, or failed, when each buyer's curve input
 * is refundable and fees are kept.
 */
export function simulateRaise(curve: Curve, fees: FeeSchedule, buys: readonly Buy[], minRaise: bigint): RaiseResult {
  let raised = 0n
  let sold = 0n
  let creatorFees = 0n
  let protocolFees = 0n
  let lastAt = 0n
  const fills: RaiseResult['fills'] = []
  const buyers: RaiseResult['buyers'] = new Map()
  buys.forEach((buy, i) => {
    if (buy.at < lastAt) throw new InvalidParameterError(`buys[${i}].at`, `buys in time order (>= ${lastAt})`, buy.at)
    lastAt = buy.at
    if (raised === curve.graduationTarget)
      throw new InvalidParameterError(`buys[${i}]`, 'no buy after graduation (the sale is over)', buy.buyer)
    let flockIn: bigint
    if (buy.mt !== undefined) {
      if (buy.mt <= 0n) throw new InvalidParameterError(`buys[${i}].mt`, 'a positive amount of MT', buy.mt)
      flockIn = curveInputForMt(curve, { raised, sold, mt: buy.mt })
    } else flockIn = buy.flock
    const quote = quoteBuy(curve, fees, { raised, flockIn, elapsed: buy.at })
    raised = quote.raisedAfter
    sold += quote.mtOut
    creatorFees += quote.creatorFee
    protocolFees += quote.protocolFee + quote.antiSnipingFee
    fills.push({ buyer: buy.buyer, at: buy.at, ...quote })
    const b = buyers.get(buy.buyer) ?? { curveIn: 0n, fees: 0n, mt: 0n, refund: 0n }
    b.curveIn += quote.curveIn
    b.fees += quote.totalPaid - quote.curveIn
    b.mt += quote.mtOut
    buyers.set(buy.buyer, b)
  })
  const outcome: RaiseOutcome =
    raised === curve.graduationTarget ? 'graduated' : raised >= minRaise ? 'graduated-at-deadline' : 'failed'
  if (outcome === 'failed') for (const b of buyers.values()) b.refund = b.curveIn
  return { fills, raised, sold, outcome, creatorFees, protocolFees, buyers }
}
