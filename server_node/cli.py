"""``server-node``: the provider's command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from server_node import __version__
from shared.cli import (
    add_compute_flags,
    add_hardware_command,
    add_models_commands,
    apply_compute_flags,
    emit,
    emit_json,
    run_cli,
)

ENV_PREFIX = "PRIVSYNTH_SERVER_"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server-node",
        description="Provider side of privsynth: hosts the base and expert models, turns clients' DP adapters "
        "into graded, refined synthetic data and knowledge adapters. Settings: PRIVSYNTH_SERVER_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    add_models_commands(sub)
    add_hardware_command(sub, env_prefix=ENV_PREFIX)
    tokens = sub.add_parser("tokens", help="client bearer tokens")
    tsub = tokens.add_subparsers(dest="tokens_command", required=True)
    create = tsub.add_parser("create", help="create a client and print its token (shown once)")
    create.add_argument("name")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_tokens_create)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--ssl-certfile", help="serve HTTPS with this certificate")
    serve.add_argument("--ssl-keyfile", help="private key of --ssl-certfile")
    add_compute_flags(serve, env_prefix=ENV_PREFIX)
    serve.set_defaults(handler=_serve)
    worker = sub.add_parser("worker", help="run job workers without the HTTP API (scale out; set "
                            "PRIVSYNTH_SERVER_WORKERS=0 on the API process)")
    worker.add_argument("--threads", type=int, default=1, help="worker threads in this process")
    add_compute_flags(worker, env_prefix=ENV_PREFIX)
    worker.set_defaults(handler=_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)


def _tokens_create(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from server_node.core.config import get_settings
    from server_node.core.db import make_engine
    from server_node.core.security import create_token

    with Session(make_engine(get_settings().db_url), expire_on_commit=False) as session:
        row, token = create_token(session, name=args.name)
    if args.json:
        emit_json({"client_id": row.client_id, "name": row.name, "token": token})
    else:
        emit(f"client {row.name} ({row.client_id}); token (shown once): {token}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server_node.main import create_app

    apply_compute_flags(args, env_prefix=ENV_PREFIX)
    uvicorn.run(create_app(), host=args.host, port=args.port, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile,
                log_level="info" if args.verbose else "warning")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    from server_node.core.config import get_settings
    from server_node.state import ServerState

    apply_compute_flags(args, env_prefix=ENV_PREFIX)
    settings = get_settings().model_copy(update={"workers": max(1, args.threads)})
    state = ServerState.from_settings(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    state.start_workers()
    emit(f"{len(state.workers)} job worker(s) running on {settings.db_url}; Ctrl-C stops them")
    stop.wait()
    state.stop_workers()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
