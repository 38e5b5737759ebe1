"""The project's shared reference material, read where it lies (``../shared`` beside the
checkout, or ``GKCRAWL_SHARED``), never copied into the repository: the five scraped seed texts
and the real reports with their true values. A test that needs it and does not find it fails
and says where it looked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("GKCRAWL_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus" / "real"


def shared(path: Path) -> Path:
    """``path`` under the shared folder; the calling test fails plainly when it is not there."""
    if not path.exists():
        pytest.fail(f"{path} is absent: the test reads the project's shared reference material "
                    f"from {SHARED} (set GKCRAWL_SHARED to where it is)", pytrace=False)
    return path


def seed_path(prefix: str) -> Path:
    """The seed text whose name starts with ``prefix`` (``"003"``)."""
    found = sorted(shared(SEEDS).glob(f"{prefix}_*.txt"))
    if not found:
        pytest.fail(f"no seed {prefix}_*.txt in {SEEDS}", pytrace=False)
    return found[0]


def seed_paths() -> list[Path]:
    return sorted(shared(SEEDS).glob("*.txt"))
