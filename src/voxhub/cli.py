"""voxhub: a self-hostable voice service that speaks HeyGen's v3 Voices API.

Exit codes of the user commands (voices, clone, speak, design): 0 done, 1 the clone failed,
2 usage, 3 key refused, 4 not found, 5 request invalid, 6 server busy or failing,
7 server unreachable, 8 --wait timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from voxhub.errors import VoxhubError
from voxhub.observability import configure_logging
from voxhub.settings import Settings, SettingsError, load_settings

__all__ = ["USER_COMMANDS", "main"]

# The user's commands, on the SDK over HTTP: voxhub.client.console parses and runs them.
USER_COMMANDS = {
    "voices": "list and show voices (voxhub voices list|get --help)",
    "clone": "clone a voice from a sample file, URL or asset, --wait for it",
    "speak": "speak text in a voice into a file, or --play it",
    "design": "find voices matching a description",
}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (VOXHUB_DATA_DIR)")
    common.add_argument(
        "--database-url", help="sqlite:///... or postgresql://... (VOXHUB_DATABASE_URL)"
    )

    parser = argparse.ArgumentParser(prog="voxhub", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the API")
    serve.add_argument("--host", help="listen address (VOXHUB_HOST)")
    serve.add_argument("--port", type=int, help="listen port (VOXHUB_PORT)")
    serve.add_argument("--log-level", help="debug, info, warning, error (VOXHUB_LOG_LEVEL)")
    serve.add_argument(
        "--role",
        choices=["all", "api"],
        help="all: API processes and a job worker (default); api: HTTP only (VOXHUB_ROLE)",
    )
    serve.add_argument(
        "--api-processes", type=int, help="API processes on the port; 0: one per core"
    )

    worker = commands.add_parser(
        "worker", parents=[common], help="lease and run jobs (clones, previews); no HTTP"
    )
    worker.add_argument("--log-level", help="debug, info, warning, error (VOXHUB_LOG_LEVEL)")
    worker.add_argument(
        "--job-workers", type=int, help="jobs run at once, one process each (VOXHUB_JOB_WORKERS)"
    )

    commands.add_parser("migrate", parents=[common], help="apply database migrations")

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", parents=[common], help="create a key; prints it last")
    create.add_argument("--account", required=True, help="account name (created if new)")
    create.add_argument("--name", help="a label for the key")
    create.add_argument("--rate-limit", help="e.g. '600/minute' (default VOXHUB_RATE_LIMIT)")
    create.add_argument("--read-only", action="store_true", help="a key that may only read")
    revoke = keys.add_parser("revoke", parents=[common], help="revoke a key by key or key id")
    revoke.add_argument("key", help="the key, or its id (the part after vxk_)")
    keys.add_parser("list", parents=[common], help="list keys (never their secrets)")
    # Listed in --help; main() runs them before parsing. Their arguments are taken whole (no
    # option prefix), so this parser accepts every user command line as console.py would.
    for name, summary in USER_COMMANDS.items():
        user = commands.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        user.add_argument("arguments", nargs="*", help="see voxhub NAME --help")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "storage.data_dir": args.data_dir,
        "database.url": args.database_url,
        "server.host": getattr(args, "host", None),
        "server.port": getattr(args, "port", None),
        "server.log_level": getattr(args, "log_level", None),
        "server.role": getattr(args, "role", None),
        "server.api_processes": getattr(args, "api_processes", None),
        "queue.workers": getattr(args, "job_workers", None),
    }
    return load_settings(overrides=overrides)


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from voxhub.container import open_key_service

    async with open_key_service(settings) as keys:
        if args.keys_command == "create":
            issued = await keys.create(
                args.account, name=args.name, rate_limit=args.rate_limit, read_only=args.read_only
            )
            print(f"created key {issued.key.key_id} for account {args.account!r}", file=sys.stderr)
            print(issued.plain)
            return 0
        if args.keys_command == "revoke":
            if await keys.revoke(args.key):
                print("revoked", file=sys.stderr)
                return 0
            print("no active key with that id", file=sys.stderr)
            return 1
        for key in await keys.list():
            state = "revoked" if key.revoked_at else "active"
            fields = (key.key_id, key.account_id, state, key.rate_limit or "-", key.name or "")
            print("\t".join(fields))
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in USER_COMMANDS:
        from voxhub.client.console import run

        return run(arguments)
    args = _parser().parse_args(arguments)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"voxhub: invalid setting: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.server.log_level, settings.server.access_log)
    from voxhub.store.migrate import upgrade

    try:
        if args.command == "serve":
            from voxhub.server import serve

            serve(settings)
            return 0
        if args.command == "worker":
            from voxhub.server import work

            work(settings)
            return 0
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.database_url)
        if args.command == "migrate":
            return 0
        return asyncio.run(_keys(args, settings))
    except VoxhubError as exc:
        print(f"voxhub: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
