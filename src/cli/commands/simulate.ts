/**
 * The simulate command: a planning scenario through the economics engine, as a table or exact JSON.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { simulate } from '../../economics/simulate.ts'
import { readScenario } from '../../economics/scenario.ts'
import { simulationReport } from '../../economics/report.ts'
import { parseJsonDocument } from '../../base/json.ts'
import { UsageError, type Command } from '../command.ts'
import { renderSimulation } from '../render/simulation.ts'

export const simulateCommand: Command = {
  name: 'simulate',
  summary:
    'Plans a deployment: runs a scenario through the economics engine and prints a per-epoch report. The scenario\n' +
    '(deployments, RMO raises, epochs of usage and stakes) goes in; raise and prices, waterfall, discounts, deployment\n' +
    'scores, emission shares and every account\'s rewards with cumulative totals come out. Format: docs/scenario.md.',
  positionals: '<scenario.json>',
  options: { json: { type: 'boolean', description: 'Print one JSON document (format fomo-simulation-report-v1) instead of tables' } },
  examples: ['fomo simulate fixtures/scenarios/qwenalice.json', 'fomo simulate fixtures/scenarios/qwenalice.json --json'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('expected exactly one scenario file', 'simulate')
    const path = resolve(io.cwd, positionals[0] as string)
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read scenario ${path}: ${error.code ?? error.message}`, 'simulate')
    })
    // Validation and the whole simulation finish before anything is printed: no partial report.
    const report = simulationReport(simulate(readScenario(parseJsonDocument(text, 'fomo-scenario-v1'))))
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderSimulation(report))
  },
}
