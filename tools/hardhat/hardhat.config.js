// The tradefin devnet's Hardhat 3 node (EDR), started by tools/devnet.py, never by hand.
//
// Deterministic on purpose, so that replaying the recorded journal rebuilds the same chain:
// the test mnemonic's accounts, chain id 31337, the cancun hardfork (as the contracts are compiled),
// a fixed genesis date passed in TRADEFIN_GENESIS_DATE, and Hardhat's own files under TRADEFIN_HARDHAT_DIR.
import { defineConfig } from "hardhat/config";

const dataDir = process.env.TRADEFIN_HARDHAT_DIR ?? ".hardhat";
const genesisDate = process.env.TRADEFIN_GENESIS_DATE;

export default defineConfig({
  paths: {
    artifacts: `${dataDir}/artifacts`,
    cache: `${dataDir}/cache`,
  },
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 31337,
      hardfork: "cancun",
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 20,
        accountsBalance: "10000000000000000000000",
      },
      ...(genesisDate ? { initialDate: genesisDate } : {}),
      // Like a real node: a reverted transaction is mined and reported in its receipt (status 0).
      throwOnTransactionFailures: false,
      loggingEnabled: false,
    },
  },
});
