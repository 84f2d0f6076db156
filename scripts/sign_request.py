"""Write through the gateway with your own key: prepare, sign, submit (ERC-2771 signed requests).

The gateway never sees the key: it answers the EIP-712 request to sign (`POST <route>:prepare`), this script signs
it with eth-account, and the gateway relays it (`POST /v1/signed-requests`), answering what the route answers.

    .venv/bin/python scripts/sign_request.py --api-key tfk_... --keystore me.json \\
        /v1/invoices '{"buyer": "0x...", "currency": "USD", ...}'
    # or --private-key-env MY_KEY (the name of an environment variable holding the 0x-hex key)

`--prepare-only` prints the typed data (for a wallet or an HSM); `--submit FILE --signature 0x...` submits typed
data signed elsewhere. Exit code 0 when the write succeeded (2xx), 1 when it was refused, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from pathlib import Path

import httpx
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.client.signing import SigningClient, check_typed_data, sign

DEFAULT_URL = "http://127.0.0.1:8000"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/sign_request.py", description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="the write route, e.g. /v1/invoices")
    parser.add_argument("body", nargs="?", default="{}", help="its JSON body (default {})")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the gateway (default {DEFAULT_URL})")
    parser.add_argument("--api-key", default=os.environ.get("TRADEFIN_API_KEY"),
                        help="your API key (default: $TRADEFIN_API_KEY)")
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--keystore", type=Path, help="an encrypted JSON keystore (asks for its passphrase)")
    key.add_argument("--private-key-env", help="the name of an environment variable holding your 0x-hex key")
    parser.add_argument("--idempotency-key", default=None, help="of the submission (default: random)")
    parser.add_argument("--prepare-only", action="store_true", help="print the typed data to sign and stop")
    parser.add_argument("--submit", type=Path, help="typed data (JSON file) signed elsewhere: submit it")
    parser.add_argument("--signature", help="with --submit: its 0x-hex signature")
    return parser.parse_args(argv)


def _private_key(args: argparse.Namespace) -> bytes | None:
    if args.keystore:
        keyfile = json.loads(args.keystore.read_text())
        return Account.decrypt(keyfile, getpass.getpass(f"passphrase of {args.keystore}: "))
    if args.private_key_env:
        value = os.environ.get(args.private_key_env)
        if not value:
            raise SystemExit(f"usage error: ${args.private_key_env} is not set")
        return bytes.fromhex(value.removeprefix("0x"))
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.api_key:
        print("usage error: give --api-key (or set TRADEFIN_API_KEY)", file=sys.stderr)
        return 2
    with httpx.Client(base_url=args.url, timeout=60.0) as http:
        if args.submit:
            if not args.signature:
                print("usage error: --submit needs --signature", file=sys.stderr)
                return 2
            client = SigningClient(args.url, args.api_key, b"\x01" * 32, http=http)  # its key is not used
            response = client.submit(json.loads(args.submit.read_text()), args.signature,
                                     args.idempotency_key or f"signed-{uuid.uuid4()}")
        else:
            if not args.path:
                print("usage error: give the write route and its body", file=sys.stderr)
                return 2
            body = json.loads(args.body)
            private_key = _private_key(args)
            if private_key is None and not args.prepare_only:
                print("usage error: give --keystore or --private-key-env (or --prepare-only)", file=sys.stderr)
                return 2
            client = SigningClient(args.url, args.api_key, private_key or b"\x01" * 32, http=http)
            response = client.prepare(args.path, body)
            if response.status_code == 200 and not args.prepare_only:
                typed = response.json()["typed_data"]
                check_typed_data(typed, client.address)
                response = client.submit(typed, sign(typed, private_key), args.idempotency_key)
            elif response.status_code == 200:
                print(json.dumps(response.json(), indent=2))
                return 0
    print(f"HTTP {response.status_code}")
    print(json.dumps(response.json(), indent=2))
    return 0 if 200 <= response.status_code < 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
