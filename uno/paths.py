"""Where a uno store lives.

Either a directory on disk holding the SQLite database and the FAISS files beside it, or a PostgreSQL URL
(``postgresql://user@host/db``) that any number of replicas share. With a URL, what each replica keeps for itself
(its FAISS read model, embedding cache, LLM ledger) goes in a local cache directory: ``$UNO_CACHE_DIR``, else
``~/.cache/uno``, in a subdirectory named by a hash of the URL without its password. That directory is only a
cache: a replica starting on an empty one rebuilds its read model from the database.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rule_store.factory import is_store_url, redact_url

DEFAULT_STORE_DIR = ".uno"
STORE_ENV = "UNO_STORE"
CACHE_DIR_ENV = "UNO_CACHE_DIR"


@dataclass(frozen=True)
class StorePaths:
    """``root`` is the local directory (the store itself, or a database URL's local cache); ``url`` the
    PostgreSQL store's URL, ``None`` for a SQLite directory."""

    root: Path
    # Out of the repr: the URL may hold a password (``display`` shows it redacted).
    url: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> StorePaths:
        """``path``, else ``$UNO_STORE``, else ``./.uno``; a PostgreSQL URL gets its local cache directory."""
        chosen = path if path is not None else os.environ.get(STORE_ENV, DEFAULT_STORE_DIR)
        if is_store_url(chosen):
            url = str(chosen)
            return cls(local_cache_dir(url), url=url)
        return cls(Path(chosen).expanduser())

    @property
    def spec(self) -> str | Path:
        """What opens the store: the URL, or the SQLite database file."""
        return self.url if self.url is not None else self.database

    @property
    def location(self) -> str | Path:
        """What ``UnoMemory`` takes: the URL, or the store directory."""
        return self.url if self.url is not None else self.root

    @property
    def display(self) -> str:
        """The store for messages and logs: its directory, or its URL without the password."""
        return redact_url(self.url) if self.url is not None else str(self.root)

    def exists(self) -> bool:
        """Whether there is a store to read (a URL is taken to name one: connecting says otherwise)."""
        return self.url is not None or self.database.exists()

    @property
    def database(self) -> Path:
        return self.root / "uno.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def embedding_cache(self) -> Path:
        return self.root / "embeddings.sqlite"

    def ensure(self) -> StorePaths:
        self.root.mkdir(parents=True, exist_ok=True)
        self.index_dir.mkdir(exist_ok=True)
        return self


def local_cache_dir(url: str) -> Path:
    """This machine's cache directory for the store at ``url``: one per database (and schema), the same for
    every password of it (a rotated password must not orphan the cache)."""
    chosen = os.environ.get(CACHE_DIR_ENV)
    parent = Path(chosen) if chosen else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uno"
    digest = hashlib.sha256(_without_password(url).encode("utf-8")).hexdigest()[:16]
    return parent.expanduser() / digest


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        netloc = f"{user_info.split(':', 1)[0]}@{host}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, ""))
