"""The TypeScript SDK bundle, driven by Node's test runner against the live service."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_typescript_sdk_node_suite_passes(live_server: str) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test-typescript-sdk.sh")],
        env={**os.environ, "BANK_BASE_URL": live_server},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    summary = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    assert "# fail 0" in result.stdout, summary
