"""The gunicorn worker class that runs the ASGI app under uvicorn.

`uvicorn.workers` is deprecated; `uvicorn_worker.UvicornWorker` builds a `uvicorn.Config` from
gunicorn's settings and then applies `CONFIG_KWARGS` on top, so this class only overrides that.

- `server_header=False`: no `Server: uvicorn` header (do not advertise the stack).
- `limit_concurrency=1000`: a bound on open connections per worker (slowloris).
- `lifespan="on"`: the app's lifespan must succeed. If the startup (settings, `SELECT 1`) fails,
  uvicorn never marks the server started, the worker exits with gunicorn's `WORKER_BOOT_ERROR`
  (3) and the master halts with "Worker failed to boot" and exit code 3, so the container
  stops instead of serving a broken app.
"""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


# uvicorn_worker ships no type information (no py.typed), so its base class is Any to mypy.
class BankUvicornWorker(UvicornWorker):  # type: ignore[misc]  # untyped base
    """Uvicorn worker with uvloop + httptools, no `Server` header and a mandatory lifespan."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "server_header": False,
        "date_header": True,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        # Past this many open connections + tasks a worker answers 503 instead of accepting
        # more: slow or stuck clients cannot exhaust file descriptors (put a proxy with header
        # and body timeouts in front in production).
        "limit_concurrency": 1000,
    }
