/**
 * A proposed epoch's sealed directory fetched from the URL its proposal names (`EpochProposed.artifacts`), for a
 * watcher that holds no copy of its own. The URL is the publisher's word and nothing it serves is trusted: the
 * manifest must hash to the proposal's manifest hash, every file to the manifest's sha256 and size, and names must be
 * plain file names. Only then is the directory written, atomically, where the auditor reads it. Receipts are not
 * fetched from there: served by the party being checked, they would prove nothing (a watcher takes them from users and
 * providers, `receiptsDir`).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { zeroHash, type Hex } from 'viem'
import { BaseError } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { readManifest, sha256Hex } from './manifest.ts'

/** Longest artifacts URL a publisher may give (`fomo publish --artifacts`) and a watcher will follow. */
export const ARTIFACTS_URL_MAX_LENGTH = 2048

/** A file name a sealed directory may hold: no separators, no leading dot (so no `..`). */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

export class ArtifactsError extends BaseError {
  override name = 'ArtifactsError'
  constructor(message: string, hint?: string) {
    super('ARTIFACTS', message, hint ? { metaMessages: [hint] } : {})
  }
}

/**
 * Checks an artifacts URL as a proposal carries it: empty (none given), or http(s), without credentials, query or
 * fragment, ending in `/` (file names are appended), at most ARTIFACTS_URL_MAX_LENGTH characters. Returns it as given.
 */
export function checkArtifactsUrl(url: string): string {
  if (url === '') return url
  const hint = 'Give the URL of the directory that serves the sealed epoch (manifest.json and the files it lists), ending in "/", e.g. https://aggregator.example/v1/epochs/20415/files/.'
  if (url.length > ARTIFACTS_URL_MAX_LENGTH) throw new ArtifactsError(`the artifacts URL is ${url.length} characters long; at most ${ARTIFACTS_URL_MAX_LENGTH} are allowed`, hint)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ArtifactsError(`the artifacts URL ${JSON.stringify(url)} is not a URL`, hint)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ArtifactsError(`the artifacts URL ${url} is not http or https`, hint)
  if (parsed.username !== '' || parsed.password !== '') throw new ArtifactsError('the artifacts URL carries credentials, which the proposal would make public', hint)
  if (parsed.search !== '' || parsed.hash !== '') throw new ArtifactsError(`the artifacts URL ${url} has a query or fragment; file names are appended to it`, hint)
  if (!url.endsWith('/')) throw new ArtifactsError(`the artifacts URL ${url} does not end in "/"; file names are appended to it`, hint)
  return url
}

export type FetchArtifactsOptions = {
  /** The proposal's artifacts URL (checked with checkArtifactsUrl). */
  url: string
  epoch: number
  /** The proposal's manifest hash (sha256 of manifest.json, 0x-hex). */
  manifestHash: Hex
  /** The proposal's proofs hash: proofs.json is fetched too unless it is zero. */
  proofsHash: Hex
  /** Where fetched directories are kept: `epoch-<n>-<first 16 hex digits of the manifest hash>` inside it. */
  cacheDir: string
  /** Largest file fetched, in bytes (default 1 GiB); manifest.json is held to 1 MiB. */
  maxFileBytes?: number | undefined
  /** Per request (default 30,000 ms). */
  timeoutMs?: number | undefined
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch | undefined
}

/** The fetched directory, or why it cannot be had yet (nothing served, or not the proposal's bytes). */
export type FetchedArtifacts = { dir: string; missing?: undefined } | { dir?: undefined; missing: string }

const DEFAULT_MAX_FILE_BYTES = 1 << 30
const MAX_MANIFEST_BYTES = 1 << 20

/**
 * Fetches the proposal's sealed directory into the cache (or finds it there from an earlier poll). A file not served
 * or not matching is reported as missing, to be waited for like a directory still syncing; a manifest that matches the
 * proposal's hash but does not parse is kept as it is, for the audit to name.
 */
export async function fetchEpochArtifacts(o: FetchArtifactsOptions): Promise<FetchedArtifacts> {
  if (o.url === '') return { missing: 'the proposal names no artifacts URL' }
  try {
    checkArtifactsUrl(o.url)
  } catch (error) {
    if (error instanceof ArtifactsError) return { missing: `the proposal's artifacts URL cannot be followed: ${error.shortMessage}` }
    throw error
  }
  const target = join(o.cacheDir, `epoch-${o.epoch}-${o.manifestHash.slice(2, 18).toLowerCase()}`)
  if (await stat(target).then((s) => s.isDirectory(), () => false)) return { dir: target }
  const get = (name: string, limit: number) => fetchBytes(o.fetch ?? fetch, `${o.url}${name}`, limit, o.timeoutMs ?? 30_000)
  const maxFile = o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES

  const manifestBytes = await get('manifest.json', MAX_MANIFEST_BYTES)
  if (typeof manifestBytes === 'string') return { missing: manifestBytes }
  if (`0x${sha256Hex(manifestBytes)}` !== o.manifestHash.toLowerCase()) return { missing: `${o.url}manifest.json is not the proposed manifest (hash ${o.manifestHash})` }
  const files = new Map<string, Uint8Array>([['manifest.json', manifestBytes]])
  let listed: Array<{ name: string; sha256: string; bytes: number | undefined }> = []
  try {
    const document = parseJsonDocument(new TextDecoder().decode(manifestBytes), 'manifest.json')
    const manifest = readManifest(document)
    const sizes = (document as { files: Record<string, { bytes?: unknown }> }).files
    listed = [...manifest.files].map(([name, sha256]) => ({ name, sha256, bytes: typeof sizes[name]?.bytes === 'number' ? (sizes[name].bytes as number) : undefined }))
  } catch (error) {
    if (!(error instanceof BaseError)) throw error
    // The proposed manifest itself is malformed: kept as it is, the audit names what is wrong with it.
  }
  for (const f of listed) {
    if (!FILE_NAME.test(f.name) || f.name === 'manifest.json')
      throw new ArtifactsError(`the proposed manifest of epoch ${o.epoch} lists a file named ${JSON.stringify(f.name)}, which is not a plain file name`, 'A sealed directory holds plain file names only: the proposal is malformed.')
    const bytes = await get(f.name, Math.min(f.bytes ?? maxFile, maxFile))
    if (typeof bytes === 'string') return { missing: bytes }
    if (sha256Hex(bytes) !== f.sha256) return { missing: `${o.url}${f.name} is not the file the proposed manifest lists` }
    files.set(f.name, bytes)
  }
  if (o.proofsHash !== zeroHash) {
    const proofs = await get('proofs.json', maxFile)
    if (typeof proofs === 'string') return { missing: `${proofs} (the proposal carries proofs)` }
    files.set('proofs.json', proofs)
  }

  // Written beside the target and renamed into place: a directory in the cache is always a whole one.
  await mkdir(o.cacheDir, { recursive: true })
  const temporary = `${target}.tmp-${randomBytes(6).toString('hex')}`
  await mkdir(temporary)
  try {
    for (const [name, bytes] of files) await writeFile(join(temporary, name), bytes)
    await rename(temporary, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another watcher process sharing the cache got there first with the same bytes.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
  } finally {
    await rm(temporary, { recursive: true, force: true })
  }
  return { dir: target }
}

/** GETs a URL's body, at most `limit` bytes; a string says why there is none (not served, too large, unreachable). */
async function fetchBytes(fetchImpl: typeof fetch, url: string, limit: number, timeoutMs: number): Promise<Uint8Array | string> {
  let response: Response
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
  } catch (error) {
    return `${url} could not be fetched: ${(error as Error).message}`
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined)
    return `${url} answered HTTP ${response.status}`
  }
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined)
    return `${url} is ${declared} bytes, more than the ${limit} expected`
  }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    // Leaving the loop early cancels the stream: an endless body is cut at the limit.
    for await (const chunk of response.body ?? []) {
      size += chunk.length
      if (size > limit) break
      chunks.push(chunk)
    }
  } catch (error) {
    return `${url} could not be read: ${(error as Error).message}`
  }
  if (size > limit) return `${url} sends more than the ${limit} bytes expected`
  return Buffer.concat(chunks, size)
}
