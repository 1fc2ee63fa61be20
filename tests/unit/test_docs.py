"""The documents stay accurate: env vars in README, README's make targets in the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

from bank.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_in_readme() -> None:
    names = {name.upper() for name in Settings.model_fields}

    missing = sorted(name for name in names if f"`{name}`" not in README)

    assert missing == []


def test_every_make_target_in_readme_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*)(?:\s+[a-z-]+)*:", makefile, flags=re.M))
    for line in re.findall(r"^([a-z][a-z -]*):", makefile, flags=re.M):
        targets.update(line.split())

    shown = set(re.findall(r"`make ([a-z-]+)", README)) | set(
        re.findall(r"^make ([a-z-]+)", README, flags=re.M)
    )

    assert shown and shown <= targets, shown - targets


def test_readme_starts_with_the_two_commands() -> None:
    head = README[: README.index("## Configuration")]

    assert "make run" in head and "make test" in head


def test_documents_exist() -> None:
    for name in ("SECURITY.md", "ROADMAP.md", "AI_USAGE.md"):
        assert len((ROOT / name).read_text()) > 500, name
