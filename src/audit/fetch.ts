/**
 * A proposed epoch's sealed directory fetched from the URL its proposal names (`EpochProposed.artifacts`), for a
 * watcher that holds no copy of its own. Nothing the server sends is trusted: the manifest must hash to the proposal's
 * manifest hash, every file to the manifest's sha256 within its declared size, names must be plain file names
 * (readManifest), and
 * proofs.json must hash its batches to the proposal's proofs hash. Files stream to disk (memory stays small), the
 * whole fetch has a deadline and a byte budget, and only a complete directory is renamed into the cache, which is
 * private to the user and checked again whenever it is reused. Receipts are not fetched from there: served by the
 * party being checked, they would prove nothing (a watcher takes them from users and providers, `receiptsDir`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { zeroHash, type Hex } from 'viem'
import { BaseError } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { ArtifactsError, checkArtifactsUrl } from '../epoch/artifacts.ts'
import { readManifest, sha256Hex } from '../epoch/manifest.ts'
import { readEpochProofs } from '../proofs/files.ts'
import { proofsHash } from '../proofs/prove.ts'

export type FetchArtifactsOptions = {
  /** The proposal's artifacts URL (checked with checkArtifactsUrl). */
  url: string
  epoch: number
  /** The proposal's manifest hash (sha256 of manifest.json, 0x-hex). */
  manifestHash: Hex
  /** The proposal's proofs hash: proofs.json is fetched too unless it is zero, and must hash to it. */
  proofsHash: Hex
  /** Where fetched directories are kept (created private to the user): `epoch-<n>-<manifest hash>-<proofs hash>`. */
  cacheDir: string
  /** Largest file fetched, in bytes (default 1 GiB); manifest.json is held to 1 MiB. */
  maxFileBytes?: number | undefined
  /** All files together, in bytes (default 4 GiB). */
  maxTotalBytes?: number | undefined
  /** The whole fetch, in ms (default 600,000): a server that trickles cannot hold the watcher past it. */
  timeoutMs?: number | undefined
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch | undefined
}

/** The fetched directory, or why it cannot be had yet (nothing served, or not the proposal's bytes). */
export type FetchedArtifacts = { dir: string; missing?: undefined } | { dir?: undefined; missing: string }

const DEFAULT_MAX_FILE_BYTES = 1 << 30
const DEFAULT_MAX_TOTAL_BYTES = 4 * (1 << 30)
const MAX_MANIFEST_BYTES = 1 << 20
/** Times a file is asked again while its server answers busy, and the longest Retry-After waited for. */
const BUSY_RETRIES = 10
const MAX_RETRY_AFTER_SECONDS = 30
/** Files a manifest may list: a sealed directory holds a handful (report, trees, config, inputs). */
const MAX_FILES = 32

/**
 * Fetches the proposal's sealed directory into the cache (or finds it there, checked again). A file not served or not
 * matching is reported as missing, to be waited for like a directory still syncing; a manifest that matches the
 * proposal's hash but does not parse is kept as it is, for the audit to name; one naming a file outside the directory
 * or too many files is a fault of the proposal (ArtifactsError).
 */
export async function fetchEpochArtifacts(o: FetchArtifactsOptions): Promise<FetchedArtifacts> {
  if (o.url === '') return { missing: 'the proposal names no artifacts URL' }
  try {
    checkArtifactsUrl(o.url)
  } catch (error) {
    if (error instanceof ArtifactsError) return { missing: `the proposal's artifacts URL cannot be followed: ${error.shortMessage}` }
    throw error
  }
  await privateDirectory(o.cacheDir)
  const target = join(o.cacheDir, `epoch-${o.epoch}-${o.manifestHash.slice(2).toLowerCase()}-${o.proofsHash.slice(2, 18).toLowerCase()}`)
  if (await lstat(target).then((s) => s.isDirectory(), () => false)) {
    // Reused only if still whole: a cache anyone else could touch, or a crash, must not pass for the proposal.
    if ((await sealedDirectoryMismatch(target, o, 'hash')) === undefined) return { dir: target }
    await rm(target, { recursive: true, force: true })
  }
  const deadline = AbortSignal.timeout(o.timeoutMs ?? 600_000)
  const maxFile = o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  let budget = o.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES
  const temporary = `${target}.tmp-${randomBytes(6).toString('hex')}`
  await mkdir(temporary, { mode: 0o700 })
  try {
    const get = async (name: string, limit: number): Promise<{ sha256: string; bytes: number } | string> => {
      const got = await fetchToFile(o.fetch ?? fetch, `${o.url}${name}`, join(temporary, name), Math.min(limit, budget), deadline)
      if (typeof got !== 'string') budget -= got.bytes
      return got
    }
    const manifest = await get('manifest.json', MAX_MANIFEST_BYTES)
    if (typeof manifest === 'string') return { missing: manifest }
    if (`0x${manifest.sha256}` !== o.manifestHash.toLowerCase()) return { missing: `${o.url}manifest.json is not the proposed manifest (hash ${o.manifestHash})` }
    const listed = await manifestFiles(join(temporary, 'manifest.json'), o.epoch)
    for (const f of listed) {
      const got = await get(f.name, Math.min(f.bytes ?? maxFile, maxFile))
      if (typeof got === 'string') return { missing: got }
      if (got.sha256 !== f.sha256) return { missing: `${o.url}${f.name} is not the file the proposed manifest lists` }
    }
    if (o.proofsHash !== zeroHash) {
      const got = await get('proofs.json', maxFile)
      if (typeof got === 'string') return { missing: `${got} (the proposal carries proofs)` }
      if ((await proofsFileHash(join(temporary, 'proofs.json'))) !== o.proofsHash.toLowerCase()) return { missing: `${o.url}proofs.json is not the proofs the proposal carries (proofs hash ${o.proofsHash})` }
    }
    // Renamed into place whole: a directory in the cache is always a complete one.
    await rename(temporary, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another watcher process sharing the cache got there first; its directory is checked when reused.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
    return { dir: target }
  } finally {
    await rm(temporary, { recursive: true, force: true })
  }
}

/** Creates the cache directory private to this user, or checks an existing one is a directory this user owns. */
async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const s = await lstat(dir)
  if (!s.isDirectory() || (process.getuid !== undefined && s.uid !== process.getuid()))
    throw new ArtifactsError(`the watcher's cache ${dir} is not a directory of this user`, 'Give the watcher a cache directory of its own (--cache).')
  if ((s.mode & 0o077) !== 0) await chmod(dir, 0o700)
}

/** The files a fetched manifest lists (none when it does not parse: the audit names it). */
async function manifestFiles(path: string, epoch: number): Promise<Array<{ name: string; sha256: string; bytes: number | undefined }>> {
  let document: unknown
  let files: Map<string, string>
  try {
    document = parseJsonDocument(await readFile(path, 'utf8'), 'manifest.json')
    files = readManifest(document).files
  } catch (error) {
    if (error instanceof BaseError) return []
    throw error
  }
  if (files.size > MAX_FILES) throw new ArtifactsError(`the proposed manifest of epoch ${epoch} lists ${files.size} files; a sealed directory holds at most ${MAX_FILES}`, 'The proposal is malformed.')
  const sizes = (document as { files: Record<string, { bytes?: unknown }> }).files
  return [...files].map(([name, sha256]) => {
    // readManifest takes plain file names only; these two are not the manifest's to list.
    if (name === 'manifest.json' || name === 'proofs.json')
      throw new ArtifactsError(`the proposed manifest of epoch ${epoch} lists ${name} among the files it covers`, 'The manifest covers the sealed files only: the proposal is malformed.')
    const bytes = sizes[name]?.bytes
    return { name, sha256, bytes: typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined }
  })
}

/** The proofs hash of a proofs.json's batches (lower-case hex), or undefined when it does not parse. */
async function proofsFileHash(path: string): Promise<string | undefined> {
  try {
    return proofsHash(readEpochProofs(parseJsonDocument(await readFile(path, 'utf8'), 'proofs.json')).batches).toLowerCase()
  } catch (error) {
    if (error instanceof BaseError) return undefined
    throw error
  }
}

/**
 * Why `dir` does not hold the proposal's sealed directory (undefined when it does): its manifest.json must hash to the
 * proposed manifest hash and every file it lists to its recorded hash, and a proposal with proofs needs proofs.json
 * (`proofs: 'present'`), or one whose batches hash to the proposal's proofs hash (`'hash'`). A directory still syncing,
 * or holding an earlier proposal of the same epoch, is not yet the proposal's; a manifest that is the proposal's but
 * does not parse is (the audit names what is wrong with it).
 */
export async function sealedDirectoryMismatch(dir: string, p: { manifestHash: Hex; proofsHash: Hex }, proofs: 'present' | 'hash'): Promise<string | undefined> {
  const manifestBytes = await readFile(join(dir, 'manifest.json')).catch(() => undefined)
  if (!manifestBytes) return `no manifest.json in ${dir}`
  if (`0x${sha256Hex(manifestBytes)}` !== p.manifestHash.toLowerCase()) return `${dir}/manifest.json is not the proposed manifest (hash ${p.manifestHash})`
  let files: Map<string, string>
  try {
    files = readManifest(parseJsonDocument(manifestBytes.toString('utf8'), 'manifest.json')).files
  } catch (error) {
    if (error instanceof BaseError) return undefined
    throw error
  }
  for (const [name, sha] of files) {
    const bytes = await readFile(join(dir, name)).catch(() => undefined)
    if (!bytes) return `${name} is not yet in ${dir}`
    if (sha256Hex(bytes) !== sha) return `${dir}/${name} is not yet the file the proposed manifest lists`
  }
  if (p.proofsHash === zeroHash) return undefined
  if (proofs === 'present' && !(await stat(join(dir, 'proofs.json')).then((s) => s.isFile(), () => false))) return `proofs.json is not yet in ${dir} (the proposal carries proofs)`
  if (proofs === 'hash' && (await proofsFileHash(join(dir, 'proofs.json'))) !== p.proofsHash.toLowerCase()) return `${dir}/proofs.json is not the proofs the proposal carries`
  return undefined
}

/**
 * GETs a URL's body into a file, at most `limit` bytes, hashing as it goes; a string says why there is none (not
 * served, too large, unreachable, past the deadline).
 */
async function fetchToFile(fetchImpl: typeof fetch, url: string, path: string, limit: number, deadline: AbortSignal): Promise<{ sha256: string; bytes: number } | string> {
  let response: Response
  try {
    response = await fetchImpl(url, { signal: deadline, redirect: 'error' })
    // A busy server (503 or 429 with Retry-After, as the aggregator answers while it sends its most files at once)
    // is asked again after the wait it names, a few times within the fetch's deadline, rather than taken as missing.
    for (let retries = 0; (response.status === 503 || response.status === 429) && retries < BUSY_RETRIES; retries++) {
      const header = response.headers.get('retry-after')
      const wait = header !== null && /^\d{1,6}$/.test(header.trim()) ? Number(header) : NaN
      if (!(wait <= MAX_RETRY_AFTER_SECONDS)) break
      await response.body?.cancel().catch(() => undefined)
      // The wait ends with the fetch's deadline too.
      await sleep(Math.max(wait * 1000, 100), undefined, { signal: deadline })
      response = await fetchImpl(url, { signal: deadline, redirect: 'error' })
    }
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
  const hash = createHash('sha256')
  const file = await open(path, 'wx', 0o600)
  let size = 0
  try {
    // Leaving the loop early cancels the stream: an endless body is cut at the limit.
    for await (const chunk of response.body ?? []) {
      size += chunk.length
      if (size > limit) break
      hash.update(chunk)
      await file.write(chunk)
    }
  } catch (error) {
    return `${url} could not be read: ${(error as Error).message}`
  } finally {
    await file.close()
  }
  if (size > limit) return `${url} sends more than the ${limit} bytes expected`
  return { sha256: hash.digest('hex'), bytes: size }
}
