/** Hardhat's runtime (in-process EDR EVM, viem clients) for the contract tests, with the project's config. */
import type {} from '@nomicfoundation/hardhat-viem'
import { fileURLToPath } from 'node:url'

process.env.HARDHAT_CONFIG = fileURLToPath(new URL('../../contracts/hardhat.config.cjs', import.meta.url))

export async function hardhat() {
  const hre = (await import('hardhat')).default
  await hre.run('compile', { quiet: true })
  return hre
}
