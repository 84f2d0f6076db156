"""tradefin's gateway (`app.main`), its indexer (`app.indexer`) and what they share."""

import os

# eth-hash takes pycryptodome over pysha3 when both are installed; safe-pysha3 (a dependency) hashes a short input
# in 2.4 µs against pycryptodome's 13.7 (a ctypes object per call), and the gateway hashes on every request
# (EIP-55 checksums, transaction and EIP-712 hashes, event topics). eth-hash chooses on its first hash, so this is
# set before anything of the gateway's hashes. An ETH_HASH_BACKEND of the environment wins.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
