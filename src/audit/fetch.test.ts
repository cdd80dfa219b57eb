/**
 * Fetching a proposal's sealed directory over real HTTP: only the proposal's bytes are kept, nothing the server sends
 * is trusted (names, sizes, bodies), and a whole directory lands in the cache or none.
 */
import { createServer, type Server } from 'node:http'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zeroHash, type Hex } from 'viem'
import { ArtifactsError, checkArtifactsUrl } from '../epoch/artifacts.ts'
import { readManifest, sha256Hex } from '../epoch/manifest.ts'
import { fetchEpochArtifacts } from './fetch.ts'

type Route = (res: import('node:http').ServerResponse) => void
const routes = new Map<string, Route>()
const requests: string[] = []
let server: Server
let base: string

const bytes = (text: string) => new TextEncoder().encode(text)
const serve = (path: string, body: Uint8Array) => routes.set(path, (res) => res.writeHead(200, { 'content-length': body.length }).end(body))
const hashOf = (body: Uint8Array) => `0x${sha256Hex(body)}` as Hex

/** A manifest (as sealing writes it) listing `files`; only its files map matters to fetching. */
function manifestOf(files: Record<string, Uint8Array>, names?: Record<string, string>): Uint8Array {
  const listed = Object.fromEntries(Object.entries(files).map(([name, content]) => [names?.[name] ?? name, { sha256: sha256Hex(content), bytes: content.length }]))
  return bytes(
    `${JSON.stringify({
      format: 'fomo-epoch-manifest-v2',
      epoch: 7,
      domain: { name: 'fomo', version: '1', chainId: 31337, verifyingContract: '0x0000000000000000000000000000000000000001' },
      previousManifestSha256: null,
      roots: { spend: null, reward: null },
      totals: { receipts: '0', users: 0, gross: '0', charged: '0' },
      files: listed,
    })}\n`,
  )
}

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '')
    const route = routes.get(req.url ?? '')
    if (route) route(res)
    else res.writeHead(404).end('not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})

afterAll(() => {
  server.closeAllConnections()
  return new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('checkArtifactsUrl', () => {
  it('takes an http(s) directory URL or nothing, and names what is wrong with any other', () => {
    expect(checkArtifactsUrl('')).toBe('')
    expect(checkArtifactsUrl('https://aggregator.example/v1/epochs/7/files/')).toBe('https://aggregator.example/v1/epochs/7/files/')
    const refused: Array<[string, RegExp]> = [
      ['ftp://host/dir/', /not http or https/],
      ['not a url', /is not a URL/],
      ['https://user:secret@host/dir/', /credentials/],
      ['https://host/dir/?token=1', /query or fragment/],
      ['https://host/dir', /does not end in "\/"/],
      [`https://host/${'a'.repeat(2048)}/`, /at most 2048/],
    ]
    for (const [url, message] of refused) expect(() => checkArtifactsUrl(url)).toThrow(message)
    expect(() => checkArtifactsUrl('file:///etc/')).toThrow(ArtifactsError)
  })
})

describe('fetchEpochArtifacts', () => {
  it('fetches the manifest and every file it lists, keeps them in the cache, and reuses the cache at the next poll', async () => {
    const report = bytes('{"format":"x"}\n')
    const tree = bytes('{"tree":[]}\n')
    const manifest = manifestOf({ 'report.json': report, 'spend-tree.json': tree })
    serve('/good/manifest.json', manifest)
    serve('/good/report.json', report)
    serve('/good/spend-tree.json', tree)
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const options = { url: `${base}/good/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir }
    const first = await fetchEpochArtifacts(options)
    expect(first.missing).toBeUndefined()
    expect((await readdir(first.dir!)).sort()).toEqual(['manifest.json', 'report.json', 'spend-tree.json'])
    expect(await readFile(join(first.dir!, 'report.json'))).toEqual(Buffer.from(report))
    const before = requests.length
    expect(await fetchEpochArtifacts(options)).toEqual(first)
    expect(requests.length).toBe(before)
    // A proposal with proofs needs proofs.json too.
    const proven = await fetchEpochArtifacts({ ...options, manifestHash: hashOf(manifest), proofsHash: `0x${'11'.repeat(32)}`, cacheDir: await mkdtemp(join(tmpdir(), 'fomo-fetch-')) })
    expect(proven.missing).toMatch(/proofs\.json answered HTTP 404 \(the proposal carries proofs\)/)
  })

  it('asks a busy server again after its Retry-After instead of taking the file as missing', async () => {
    const report = bytes('{"format":"busy"}\n')
    const manifest = manifestOf({ 'report.json': report })
    serve('/busy/manifest.json', manifest)
    let busy = 2
    routes.set('/busy/report.json', (res) => (busy-- > 0 ? res.writeHead(503, { 'retry-after': '0' }).end('{"retry":true}') : res.writeHead(200).end(report)))
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const fetched = await fetchEpochArtifacts({ url: `${base}/busy/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir })
    expect(fetched.missing).toBeUndefined()
    expect(requests.filter((r) => r === '/busy/report.json')).toHaveLength(3)
    // Busy without a Retry-After is an answer like any other: missing, for the next poll.
    routes.set('/busy/report.json', (res) => res.writeHead(503).end())
    const again = await fetchEpochArtifacts({ url: `${base}/busy/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir: await mkdtemp(join(tmpdir(), 'fomo-fetch-')) })
    expect(again.missing).toMatch(/report\.json answered HTTP 503/)
    expect(requests.filter((r) => r === '/busy/report.json')).toHaveLength(4)
  })

  it('keeps nothing that is not the proposal: another manifest, a changed file, a file not served', async () => {
    const report = bytes('{"a":1}\n')
    const manifest = manifestOf({ 'report.json': report })
    serve('/stale/manifest.json', manifest)
    serve('/stale/report.json', bytes('{"a":2}\n'))
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const at = (url: string, manifestHash: Hex) => fetchEpochArtifacts({ url, epoch: 7, manifestHash, proofsHash: zeroHash, cacheDir })
    expect((await at(`${base}/stale/`, hashOf(bytes('another')))).missing).toMatch(/manifest\.json is not the proposed manifest/)
    expect((await at(`${base}/stale/`, hashOf(manifest))).missing).toMatch(/report\.json is not the file the proposed manifest lists/)
    expect((await at(`${base}/nothing/`, hashOf(manifest))).missing).toMatch(/manifest\.json answered HTTP 404/)
    expect((await at('', hashOf(manifest))).missing).toMatch(/names no artifacts URL/)
    expect((await at('https://host/dir', hashOf(manifest))).missing).toMatch(/cannot be followed: .*does not end in "\/"/)
    expect(await readdir(cacheDir)).toEqual([])
  })

  it('never writes outside the cache: a manifest naming ../ is malformed, kept alone for the audit to name', async () => {
    const evil = bytes('x')
    const manifest = manifestOf({ evil }, { evil: '../../escaped.json' })
    serve('/evil/manifest.json', manifest)
    serve('/escaped.json', evil)
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const before = requests.length
    const { dir } = await fetchEpochArtifacts({ url: `${base}/evil/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir })
    expect(requests.length).toBe(before + 1)
    expect(await readdir(dir!)).toEqual(['manifest.json'])
    expect(() => readManifest(JSON.parse(Buffer.from(manifest).toString('utf8')))).toThrow('$.files["../../escaped.json"]: expected an entry named by a plain file name')
  })

  it('reads no more than the manifest declares: a larger or endless body is cut off', async () => {
    const report = bytes('{"small":true}\n')
    const manifest = manifestOf({ 'report.json': report })
    serve('/big/manifest.json', manifest)
    // Chunked (no content-length) and endless: the reader stops at the declared size.
    routes.set('/big/report.json', (res) => {
      res.writeHead(200)
      const chunk = Buffer.alloc(64 * 1024, 'a')
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return
        res.once('drain', pump)
      }
      res.on('close', () => res.removeAllListeners('drain'))
      pump()
    })
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const result = await fetchEpochArtifacts({ url: `${base}/big/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir })
    expect(result.missing).toMatch(new RegExp(`report\\.json sends more than the ${report.length} bytes expected`))
    // A declared length over the limit is refused before reading.
    serve('/declared/manifest.json', manifest)
    serve('/declared/report.json', Buffer.alloc(report.length + 1, 'b'))
    const declared = await fetchEpochArtifacts({ url: `${base}/declared/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir })
    expect(declared.missing).toMatch(/is 16 bytes, more than the 15 expected/)
  })

  it('a cached directory is checked again when reused: one changed since is fetched again', async () => {
    const report = bytes('{"cached":true}\n')
    const manifest = manifestOf({ 'report.json': report })
    serve('/cached/manifest.json', manifest)
    serve('/cached/report.json', report)
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const options = { url: `${base}/cached/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir }
    const { dir } = await fetchEpochArtifacts(options)
    await writeFile(join(dir!, 'report.json'), '{"cached":false}\n')
    const before = requests.length
    expect((await fetchEpochArtifacts(options)).dir).toBe(dir)
    expect(requests.length).toBe(before + 2)
    expect(await readFile(join(dir!, 'report.json'))).toEqual(Buffer.from(report))
  })

  it('refuses a manifest listing more files than a sealed directory holds, and proofs that are not the proposal\'s', async () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}.json`, bytes(String(i))]))
    const manifest = manifestOf(many)
    serve('/many/manifest.json', manifest)
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    await expect(fetchEpochArtifacts({ url: `${base}/many/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir })).rejects.toThrow(/lists 33 files; a sealed directory holds at most 32/)
    const small = manifestOf({})
    serve('/proofs/manifest.json', small)
    serve('/proofs/proofs.json', bytes('{"format":"fomo-epoch-proofs-v4"}'))
    const proven = await fetchEpochArtifacts({ url: `${base}/proofs/`, epoch: 7, manifestHash: hashOf(small), proofsHash: `0x${'22'.repeat(32)}`, cacheDir })
    expect(proven.missing).toMatch(/proofs\.json is not the proofs the proposal carries/)
  })

  it('gives up on a server that trickles past the deadline of the whole fetch', async () => {
    const report = bytes('{"slow":true}\n')
    const manifest = manifestOf({ 'report.json': report })
    serve('/trickle/manifest.json', manifest)
    routes.set('/trickle/report.json', (res) => {
      res.writeHead(200)
      const timer = setInterval(() => res.write(' '), 50)
      res.on('close', () => clearInterval(timer))
    })
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const result = await fetchEpochArtifacts({ url: `${base}/trickle/`, epoch: 7, manifestHash: hashOf(manifest), proofsHash: zeroHash, cacheDir, timeoutMs: 300 })
    expect(result.missing).toMatch(/report\.json could not be read/)
  })

  it('gives up on a server that does not answer within the timeout', async () => {
    routes.set('/slow/manifest.json', () => undefined)
    const cacheDir = await mkdtemp(join(tmpdir(), 'fomo-fetch-'))
    const result = await fetchEpochArtifacts({ url: `${base}/slow/`, epoch: 7, manifestHash: zeroHash, proofsHash: zeroHash, cacheDir, timeoutMs: 200 })
    expect(result.missing).toMatch(/manifest\.json could not be fetched/)
  })
})
