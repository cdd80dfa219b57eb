/**
 * Where a proposal's sealed directory is served (the artifacts URL `propose` logs in `EpochProposed`) and the file
 * names such a directory may hold. The URL is the publisher's word: src/audit/fetch.ts checks everything served there.
 */
import { BaseError } from '../base/errors.ts'

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

/** Whether a manifest's file name is a plain file name (nothing outside the directory can be named). */
export const isArtifactName = (name: string): boolean => FILE_NAME.test(name)

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
