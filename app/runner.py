"""Starting the gateway, and giving the demo world its keystores and API keys.

For `tools/platform.py` (make run), whose `start_gateway_and_indexer(rpc_url, chain_id)` starts two child
processes:

    from app.runner import start_gateway_process, start_indexer_process
    gateway = start_gateway_process(rpc_url, chain_id, indexer_in_process=False)  # keystores + API keys
    indexer = start_indexer_process(rpc_url, chain_id)     # (printed once), then the gateway on
                                                           # 127.0.0.1:8000, ready when it returns

In-process alternatives: `prepare_demo_access(settings)` then `serve(settings)` (blocks until Ctrl-C).

Command line: `python -m app.runner [--demo]` with settings from the environment (TRADEFIN_*).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from eth_account import Account

from app.core.config import ROOT, Settings, load_settings

TEST_MNEMONIC = "test test test test test test test test test test test junk"


def derive_private_keys(roles: tuple[str, ...], mnemonic: str = TEST_MNEMONIC) -> dict[str, str]:
    """Role → private key (hex) of the accounts `m/44'/60'/0'/0/<i>` in role order (Ape's test accounts)."""
    Account.enable_unaudited_hdwallet_features()
    return {role: Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key.hex()
            for i, role in enumerate(roles)}


# The keys file's `onboarding` note of each participant: who registers it on the `make run` chain.
REGISTERED_BY_MAKE_RUN = "registered, KYC'd and funded by make run"
REGISTERED_BY_DEMO = ("not registered by make run: scripts/demo.py registers it and bank_cn attests its KYC on its "
                      "first run")


def prepare_access(settings: Settings, private_keys: dict[str, str], print_keys: bool = True,
                   onboarding: dict[str, str] | None = None) -> dict[str, Any]:
    """Keystores for `private_keys` (role → key) and one API key per role, written to
    `settings.api_keys_file` (mode 0600). Reuses the file when it exists; prints the keys only when new.
    `onboarding` (role → note): who registers each participant, kept in the file as the entry's `onboarding`."""
    from app.chain.signer import KeystoreDirectory
    from app.db.session import make_engine, make_sessionmaker
    from app.services.api_keys import ApiKeyStore

    keystores = KeystoreDirectory(settings.keystore_dir, settings.keystore_passphrase.get_secret_value(),
                                  settings.keystore_scrypt_n)
    addresses = {role: keystores.create(key) for role, key in private_keys.items()}
    notes = onboarding or {}
    path = settings.api_keys_file
    if path.exists():
        existing = json.loads(path.read_text())
        if all(r in existing and existing[r]["address"] == a for r, a in addresses.items()):
            kept = {role: {**existing[role], **({"onboarding": notes[role]} if role in notes else {})}
                    for role in addresses}
            if kept != existing:  # written by an earlier version, or for roles no longer given keys
                _write_keys(path, kept)
            return kept
    store = ApiKeyStore(make_sessionmaker(make_engine(settings.resolved_database_url)))
    operator = addresses.get("operator", next(iter(addresses.values())))
    issued = {role: {"address": address, "api_key": store.issue(address, f"demo {role}", operator).token,
                     **({"onboarding": notes[role]} if role in notes else {})}
              for role, address in addresses.items()}
    _write_keys(path, issued)
    if print_keys:
        print(f"API keys of the demo world (kept in {path}, shown once):")
        for role, entry in issued.items():
            later = "  (registered by scripts/demo.py)" if notes.get(role) == REGISTERED_BY_DEMO else ""
            print(f"  {role:<10} {entry['address']}  {entry['api_key']}{later}")
    return issued


def prepare_demo_relayer(settings: Settings) -> str:
    """The keystore of the demo world's relayer of signed requests (`app.demo_world.RELAYER`: the test account after
    the roles, funded with ETH by the devnet like every test account); its address."""
    from app.chain.signer import KeystoreDirectory
    from app.demo_world import RELAYER, RELAYER_ROLES

    keystores = KeystoreDirectory(settings.keystore_dir, settings.keystore_passphrase.get_secret_value(),
                                  settings.keystore_scrypt_n)
    return keystores.create(derive_private_keys(RELAYER_ROLES)[RELAYER])


def _write_keys(path: Any, entries: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(entries, handle, indent=2)


def prepare_demo_access(settings: Settings, print_keys: bool = True) -> dict[str, Any]:
    """Keystores and API keys for `make run`'s world (test mnemonic accounts): the demo world
    (`app.demo_world.DEMO_WORLD`), which make run registers, and the tier suppliers (`SUPPLIERS`), which
    `scripts/demo.py` registers through the API on its first run (each entry's `onboarding` says which)."""
    from app.demo_world import DEMO_WORLD, SUPPLIERS, TEST_ROLES

    keys = derive_private_keys(TEST_ROLES)  # the account index is the role's place in TEST_ROLES
    onboarding = {p.role: REGISTERED_BY_MAKE_RUN for p in DEMO_WORLD} | {r: REGISTERED_BY_DEMO for r in SUPPLIERS}
    return prepare_access(settings, {role: keys[role] for role in onboarding}, print_keys, onboarding)


def serve(settings: Settings | None = None) -> None:
    """Run the gateway in this process until interrupted (uvloop + httptools)."""
    import uvicorn

    from app.main import create_app

    settings = settings or Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                loop=_available("uvloop", "asyncio"), http=_available("httptools", "h11"), access_log=False,
                timeout_graceful_shutdown=5)


def _available(module: str, fallback: str) -> str:
    """`module` when it is installed (pinned in requirements.lock), else uvicorn's pure-Python fallback."""
    import importlib.util

    return module if importlib.util.find_spec(module) is not None else fallback


def start_gateway_process(rpc_url: str, chain_id: int, port: int | None = None, data_dir: str | None = None,
                          ready_timeout: float = 120.0, indexer_in_process: bool = True) -> subprocess.Popen[bytes]:
    """Create the demo world's keystores and API keys (printed once, kept in the data folder), then start
    `python -m app.runner` as a child process against `rpc_url` and return once `/health` says the chain
    is ready. Settings not given here come from the environment (TRADEFIN_*). Stop it with SIGINT.
    `indexer_in_process=False`: the gateway runs no indexer (start one with `start_indexer_process`)."""
    import time
    import urllib.request

    env = _child_env(rpc_url, chain_id)
    if not indexer_in_process:
        env["TRADEFIN_INDEXER_ENABLED"] = "false"
    if port is not None:
        env["TRADEFIN_PORT"] = str(port)
    if data_dir is not None:
        env["TRADEFIN_DATA_DIR"] = data_dir
    settings = Settings(rpc_url=rpc_url, chain_id=chain_id, **({"port": port} if port else {}),
                        **({"data_dir": data_dir} if data_dir else {}))
    prepare_demo_access(settings)
    if not settings.relayers:
        env["TRADEFIN_RELAYERS"] = json.dumps([prepare_demo_relayer(settings)])
    process = subprocess.Popen([sys.executable, "-m", "app.runner"], cwd=ROOT, env=env)
    url = f"http://{settings.host}:{settings.port}"
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if json.loads(response.read()).get("chain_ready"):
                    print(f"gateway on {url} (API docs: {url}/docs)", flush=True)
                    return process
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the gateway did not become ready in time")


def start_indexer_process(rpc_url: str, chain_id: int) -> subprocess.Popen[bytes]:
    """`python -m app.indexer` as a child process against `rpc_url`, on the gateway's database (settings
    from the environment, TRADEFIN_* and TRADEFIN_INDEXER_*). Stop it with SIGINT or SIGTERM."""
    return subprocess.Popen([sys.executable, "-m", "app.indexer"], cwd=ROOT,
                            env=_child_env(rpc_url, chain_id))


def _child_env(rpc_url: str, chain_id: int) -> dict[str, str]:
    """This process's environment with the chain a child process is to use."""
    return dict(os.environ, TRADEFIN_RPC_URL=rpc_url, TRADEFIN_CHAIN_ID=str(chain_id))


def main(argv: list[str]) -> int:
    import logging

    settings = load_settings()  # refused settings (no passphrase outside development): one line and exit 1
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "--demo" in argv:
        prepare_demo_access(settings)
        if not settings.relayers:
            settings = settings.model_copy(update={"relayers": [prepare_demo_relayer(settings)]})
    serve(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
