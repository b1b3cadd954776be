"""``monte-carlo-sandbox --port N`` (or ``python -m monte_carlo_sandbox``): run the sandbox until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from monte_carlo_sandbox import FLOWS
from monte_carlo_sandbox.faults import FaultConfig
from monte_carlo_sandbox.server import LOOPBACK_HOSTS, SandboxConfig, make_server


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate must be between 0 and 1, got {text}")
    return value


def _delay(text: str) -> tuple[str, float]:
    flow, sep, seconds = text.partition("=")
    if not sep or flow not in FLOWS:
        raise argparse.ArgumentTypeError(f"expected FLOW=SECONDS with FLOW in {', '.join(FLOWS)}, got {text!r}")
    value = float(seconds)
    if value < 0:
        raise argparse.ArgumentTypeError(f"delay must be >= 0, got {text!r}")
    return flow, value


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="monte-carlo-sandbox",
        description="Local Monte Carlo push gateway + GraphQL stand-in (loopback only).",
    )
    p.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    p.add_argument("--host", default="127.0.0.1", help="loopback address only (default 127.0.0.1)")
    p.add_argument("--db", default=env("SANDBOX_DB", ":memory:"), help="SQLite file (default: in memory)")
    p.add_argument("--ingest-key-id", default=env("SANDBOX_INGEST_KEY_ID", SandboxConfig.ingest_key_id))
    p.add_argument("--ingest-key-secret", default=env("SANDBOX_INGEST_KEY_SECRET", SandboxConfig.ingest_key_secret))
    p.add_argument("--graphql-key-id", default=env("SANDBOX_GRAPHQL_KEY_ID", SandboxConfig.graphql_key_id))
    p.add_argument("--graphql-key-secret", default=env("SANDBOX_GRAPHQL_KEY_SECRET", SandboxConfig.graphql_key_secret))
    p.add_argument("--fail-503", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--fail-429", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--retry-after-s", type=int, default=1, help="Retry-After on injected 429s")
    p.add_argument("--drop-after-accept", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--drop-hold-s", type=float, default=30.0, help="max seconds a dropped request is held")
    p.add_argument("--slow-ms", type=int, default=0, metavar="MS")
    p.add_argument("--faults-on-graphql", action="store_true", help="apply 503/429/slow to /graphql too")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--visibility-delay-s",
        type=_delay,
        action="append",
        default=[],
        metavar="FLOW=SECONDS",
        help=f"delay before pushed data shows in GraphQL; FLOW in {', '.join(FLOWS)}; repeatable",
    )
    p.add_argument(
        "--max-raw-bytes",
        type=int,
        default=FaultConfig.max_raw_bytes,
        metavar="BYTES",
        help="answer 413 to ingest bodies larger than this many raw bytes; 0 = no raw cap "
        f"(default {FaultConfig.max_raw_bytes}: what we assume the gateway in front of Lambda does)",
    )
    p.add_argument("--ready-file", default=None, help="write the URL here once listening")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.host not in LOOPBACK_HOSTS:
        print(f"refusing to bind {args.host!r}: the sandbox listens on loopback only", file=sys.stderr)
        return 2
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        db_path=args.db,
        ingest_key_id=args.ingest_key_id,
        ingest_key_secret=args.ingest_key_secret,
        graphql_key_id=args.graphql_key_id,
        graphql_key_secret=args.graphql_key_secret,
        faults=FaultConfig(
            fail_503=args.fail_503,
            fail_429=args.fail_429,
            drop_after_accept=args.drop_after_accept,
            slow_ms=args.slow_ms,
            retry_after_s=args.retry_after_s,
            drop_hold_s=args.drop_hold_s,
            graphql=args.faults_on_graphql,
            seed=args.seed,
            max_raw_bytes=args.max_raw_bytes or None,
        ),
        visibility=dict(args.visibility_delay_s),
    )
    server = make_server(config)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    # Warm the GraphQL schema in the background so the first /graphql call is not the slow one.
    threading.Thread(target=lambda: server.app.graphql, daemon=True).start()
    print(f"Monte Carlo sandbox listening on {server.url}", flush=True)
    if args.ready_file:
        # Write then rename, so a poller never reads a half-written URL.
        tmp = f"{args.ready_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(server.url)
        os.replace(tmp, args.ready_file)
    while not stop.wait(0.2):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
