"""Database configuration: the guide's keys, validated once at open.

An unknown key or a value of the wrong kind is a ConfigError that names the key and lists what
is accepted, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from sochdb.errors import ConfigError

SYNC_MODES = ("full", "normal", "off")
ISOLATION_LEVELS = ("snapshot", "serializable")

#: In ``sync_mode="normal"`` the WAL is written to the OS at every commit (so a killed process
#: loses nothing) and fsynced by a background flusher at most this many seconds later; an OS
#: crash or power loss can lose commits acknowledged within that window.
NORMAL_SYNC_WINDOW_S = 0.1


@dataclass(frozen=True)
class Config:
    """Validated settings of one open database."""

    create_if_missing: bool = True
    wal_enabled: bool = True
    sync_mode: str = "normal"
    memtable_size_bytes: int = 64 * 1024 * 1024
    memory_limit: int | None = None  # bytes any one intermediate result of a query may hold
    statement_timeout: float | None = None  # seconds a SQL statement may run
    isolation: str = "snapshot"
    read_only: bool = False

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> "Config":
        """Build a Config from the user's dict, rejecting unknown keys and bad values."""
        if config is None:
            return cls()
        if isinstance(config, Config):
            return config
        if not isinstance(config, Mapping):
            raise ConfigError(f"config must be a dict, not {type(config).__name__}")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key not in known:
                raise ConfigError(
                    f"unknown config key {key!r}; accepted keys: {', '.join(sorted(known))}")
            values[key] = value
        made = cls(**values)
        made._validate()
        return made

    def _validate(self) -> None:
        for key in ("create_if_missing", "wal_enabled", "read_only"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"config {key!r} must be True or False, "
                                  f"not {getattr(self, key)!r}")
        if self.sync_mode not in SYNC_MODES:
            raise ConfigError(f"config 'sync_mode' must be one of {', '.join(SYNC_MODES)}; "
                              f"got {self.sync_mode!r}")
        if self.isolation not in ISOLATION_LEVELS:
            raise ConfigError(f"config 'isolation' must be one of "
                              f"{', '.join(ISOLATION_LEVELS)}; got {self.isolation!r}")
        m = self.memtable_size_bytes
        if isinstance(m, bool) or not isinstance(m, int) or m < 4096:
            raise ConfigError(f"config 'memtable_size_bytes' must be an integer >= 4096; got {m!r}")
        lim = self.memory_limit
        if lim is not None and (isinstance(lim, bool) or not isinstance(lim, int) or lim <= 0):
            raise ConfigError(f"config 'memory_limit' must be a positive integer of bytes or None;"
                              f" got {lim!r}")
        t = self.statement_timeout
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                              or not t > 0):
            raise ConfigError(f"config 'statement_timeout' must be a positive number of "
                              f"seconds or None; got {t!r}")
