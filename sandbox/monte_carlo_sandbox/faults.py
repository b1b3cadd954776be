"""Fault injection: the gateway's bad days, at configurable rates, reproducible with a seed.

Each request draws from one seeded RNG under a lock, so a given seed and request order give the
same faults (threads racing for the lock can reorder draws; tests that need exact sequences use
rates of 0 or 1).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class FaultConfig:
    #: share of requests answered 503 before anything is looked at (nothing stored)
    fail_503: float = 0.0
    #: share of requests answered 429 with a Retry-After header (nothing stored)
    fail_429: float = 0.0
    #: share of accepted pushes that are stored but never answered (client sees a timeout)
    drop_after_accept: float = 0.0
    #: delay before every answer, in milliseconds
    slow_ms: int = 0
    #: the Retry-After header value on 429s, in seconds
    retry_after_s: int = 1
    #: how long a dropped request's connection is held open at most (released earlier when the
    #: client hangs up), in seconds
    drop_hold_s: float = 30.0
    #: once this many pushes have been accepted, answer 503 to every ingest request (an outage
    #: that starts mid-push; tests of resume-after-last-accepted-batch use it); None = never
    fail_503_after: int | None = None
    #: apply 503/429/slow_ms to /graphql too (drop_after_accept is ingest-only)
    graphql: bool = False
    seed: int | None = None
    # -- answers that break after the push was stored (the client cannot know it was accepted) --
    #: share of accepted pushes whose connection is reset (TCP RST) instead of answered
    reset_after_accept: float = 0.0
    #: share of accepted pushes answered with a truncated body (Content-Length promises more
    #: bytes than are sent, then the connection closes)
    truncate_after_accept: float = 0.0
    #: share of accepted pushes answered 202 with a body that is not JSON (a proxy's HTML page)
    non_json_after_accept: float = 0.0
    #: milliseconds between the bytes of every ingest answer (a slow drip: each read gets a byte
    #: well within any per-read timeout, the answer as a whole takes ~len * drip_ms); 0 = off
    drip_ms: int = 0
    # -- limits --
    #: largest raw (uncompressed) request body accepted; larger ones are answered 413 before
    #: anything is looked at. Default 6 MiB: Monte Carlo does not document a raw cap, and we
    #: assume the gateway in front of Lambda refuses what Lambda does (6 MiB synchronous payload;
    #: API Gateway alone would allow 10 MB). None = no raw cap (the 1 MB gzip rule still holds).
    max_raw_bytes: int | None = 6 * 1024 * 1024

    def validate(self) -> None:
        for name in ("fail_503", "fail_429", "drop_after_accept", "reset_after_accept", "truncate_after_accept",
                     "non_json_after_accept"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a rate between 0 and 1, got {value!r}")
        if self.fail_503_after is not None and (
            isinstance(self.fail_503_after, bool) or not isinstance(self.fail_503_after, int) or self.fail_503_after < 0
        ):
            raise ValueError(f"fail_503_after must be a whole number >= 0 or null, got {self.fail_503_after!r}")
        if self.max_raw_bytes is not None and (
            isinstance(self.max_raw_bytes, bool) or not isinstance(self.max_raw_bytes, int) or self.max_raw_bytes < 1
        ):
            raise ValueError(f"max_raw_bytes must be a whole number of bytes >= 1 or null, got {self.max_raw_bytes!r}")
        for name in ("slow_ms", "retry_after_s", "drop_hold_s", "drip_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")


FAULT_FIELDS = frozenset(f.name for f in fields(FaultConfig))


class Faults:
    """Thread-safe holder of the fault config and its RNG."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._config.validate()
        self._rng = random.Random(self._config.seed)

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return FaultConfig(**asdict(self._config))

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply a partial config (the admin API's JSON); unknown keys raise ValueError."""
        unknown = set(changes) - FAULT_FIELDS
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))} (known: {', '.join(sorted(FAULT_FIELDS))})")
        with self._lock:
            candidate = FaultConfig(**{**asdict(self._config), **changes})
            candidate.validate()
            self._config = candidate
            if "seed" in changes:
                self._rng = random.Random(candidate.seed)
            return FaultConfig(**asdict(candidate))

    def reset(self, base: FaultConfig) -> None:
        with self._lock:
            self._config = FaultConfig(**asdict(base))
            self._rng = random.Random(base.seed)

    def pre_answer(self, *, graphql: bool, accepted: int = 0) -> str | None:
        """'503', '429' or None: the fault (if any) to answer with before handling the request.
        ``accepted`` is how many pushes the sandbox has accepted so far."""
        with self._lock:
            cfg = self._config
            if not graphql and cfg.fail_503_after is not None and accepted >= cfg.fail_503_after:
                return "503"
            if graphql and not cfg.graphql:
                return None
            # Always draw twice so one rate's value does not shift the other's sequence.
            r503, r429 = self._rng.random(), self._rng.random()
            if r503 < cfg.fail_503:
                return "503"
            if r429 < cfg.fail_429:
                return "429"
            return None

    def drop_after_accept(self) -> bool:
        with self._lock:
            return self._rng.random() < self._config.drop_after_accept

    def broken_answer(self) -> str | None:
        """'reset', 'truncate', 'non_json' or None: how to break the answer to a push that was
        just stored. One draw per kind, always, so one rate does not shift the others."""
        with self._lock:
            cfg = self._config
            if not (cfg.reset_after_accept or cfg.truncate_after_accept or cfg.non_json_after_accept):
                return None  # no draw: seeded runs without these faults keep their old sequence
            draws = [self._rng.random() for _ in range(3)]
            for fault, rate, draw in zip(
                ("reset", "truncate", "non_json"),
                (cfg.reset_after_accept, cfg.truncate_after_accept, cfg.non_json_after_accept),
                draws,
                strict=True,
            ):
                if draw < rate:
                    return fault
            return None

    def slow_seconds(self, *, graphql: bool) -> float:
        with self._lock:
            if graphql and not self._config.graphql:
                return 0.0
            return self._config.slow_ms / 1000.0
