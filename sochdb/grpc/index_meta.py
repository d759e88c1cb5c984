"""The HNSW settings a CreateIndex call gives that the database's vector indexes do not keep
(``ef_search``, ``max_connections_layer0``, the creation time), kept per index name in
``<db>/grpc-indexes.json``.

The file is written atomically (temp file, fsync, rename) on create and drop; a database in
memory keeps them in memory. A missing entry (an index created without gRPC) means the
defaults. Imports only the standard library and sochdb.errors.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from sochdb.errors import CorruptionError

__all__ = ["META_NAME", "IndexMetaStore"]

META_NAME = "grpc-indexes.json"


class IndexMetaStore:
    """Per-index settings as plain dicts, saved next to the database's own files."""

    def __init__(self, db_path: str) -> None:
        self._path = None if db_path == ":memory:" else os.path.join(db_path, META_NAME)
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._path is None:
            return {}
        try:
            with open(self._path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise CorruptionError(f"{self._path}: unreadable index settings: {e}",
                                  path=self._path) from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise CorruptionError(f"{self._path}: expected an object of objects",
                                  path=self._path)
        return data

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = f"{self._path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._entries, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path)

    def get(self, name: str) -> dict[str, Any]:
        """The settings saved for ``name`` (an empty dict when none were)."""
        with self._lock:
            return dict(self._entries.get(name, {}))

    def set(self, name: str, settings: dict[str, Any]) -> None:
        with self._lock:
            self._entries[name] = dict(settings)
            self._save()

    def drop(self, name: str) -> None:
        with self._lock:
            if self._entries.pop(name, None) is not None:
                self._save()

    def prune(self, live: list[str]) -> None:
        """Forget settings of indexes that no longer exist (dropped without gRPC)."""
        with self._lock:
            stale = [n for n in self._entries if n not in set(live)]
            for n in stale:
                del self._entries[n]
            if stale:
                self._save()
