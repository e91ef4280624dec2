"""Where a uno store lives on disk: one directory holding the SQLite database and the FAISS files beside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STORE_DIR = ".uno"
STORE_ENV = "UNO_STORE"


@dataclass(frozen=True)
class StorePaths:
    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> StorePaths:
        """``path``, else ``$UNO_STORE``, else ``./.uno``."""
        chosen = path if path is not None else os.environ.get(STORE_ENV, DEFAULT_STORE_DIR)
        return cls(Path(chosen).expanduser())

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
