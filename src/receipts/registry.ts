/**
 * Which provider addresses may sign receipts for which deployment. Revoking a
 * provider stops its future receipts from being accepted.
 */
import type { Hex } from '../base/bytes.ts'

export class ProviderRegistry {
  readonly #allowed = new Map<string, Set<string>>()

  static from(entries: Iterable<{ deploymentId: string; provider: string }>): ProviderRegistry {
    const registry = new ProviderRegistry()
    for (const e of entries) registry.allow(e.deploymentId, e.provider)
    return registry
  }

  allow(deploymentId: string, provider: string): void {
    const key = deploymentId.toLowerCase()
    let set = this.#allowed.get(key)
    if (!set) this.#allowed.set(key, (set = new Set()))
    set.add(provider.toLowerCase())
  }

  revoke(deploymentId: string, provider: string): void {
    this.#allowed.get(deploymentId.toLowerCase())?.delete(provider.toLowerCase())
  }

  isAllowed(deploymentId: Hex, provider: Hex): boolean {
    return this.#allowed.get(deploymentId.toLowerCase())?.has(provider.toLowerCase()) ?? false
  }

  entries(): Array<{ deploymentId: Hex; provider: Hex }> {
    return [...this.#allowed].flatMap(([deploymentId, set]) => [...set].sort().map((provider) => ({ deploymentId: deploymentId as Hex, provider: provider as Hex })))
  }
}
