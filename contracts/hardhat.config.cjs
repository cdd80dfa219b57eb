// Hardhat 2 for compiling and testing the contracts, offline: the compiler is solc from npm (solcjs).
const { subtask } = require('hardhat/config')
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require('hardhat/builtin-tasks/task-names')
const path = require('node:path')
require('@nomicfoundation/hardhat-viem')

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }) => {
  const solc = require('solc')
  if (!solc.version().startsWith(solcVersion)) throw new Error(`solc from npm is ${solc.version()}, config asks ${solcVersion}`)
  return { compilerPath: require.resolve('solc/soljson.js'), isSolcJs: true, version: solcVersion, longVersion: solc.version() }
})

const root = path.join(__dirname, '..')
module.exports = {
  solidity: {
    compilers: [{ version: '0.8.28', settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: 'paris' } }],
    // The registry and the distributor (the registry that pays) are optimized for size: with two-step admin transfer
    // the distributor's runtime would pass the 24,576-byte limit at 10,000 runs.
    overrides: Object.fromEntries(['contracts/src/EpochRegistry.sol', 'contracts/src/RewardDistributor.sol'].map((f) => [f, { version: '0.8.28', settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'paris' } }])),
  },
  paths: { root, sources: path.join(__dirname, 'src'), artifacts: path.join(root, '.cache', 'artifacts'), cache: path.join(root, '.cache', 'hardhat'), tests: path.join(__dirname, 'test') },
  networks: { hardhat: { allowUnlimitedContractSize: false } },
}
