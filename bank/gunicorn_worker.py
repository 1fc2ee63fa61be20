"""The gunicorn worker class that runs the ASGI app under uvicorn.

`uvicorn.workers` is deprecated; `uvicorn_worker.UvicornWorker` builds a `uvicorn.Config` from
gunicorn's settings and then applies `CONFIG_KWARGS` on top, so this class only overrides that.

- `server_header=False`: no `Server: uvicorn` header (do not advertise the stack).
- `limit_concurrency=1000`: a bound on open connections per worker (slowloris).
- `lifespan="on"`: the app's lifespan must succeed. If the startup fails (settings, a schema
  behind the code), uvicorn never marks the server started, the worker exits with gunicorn's
  `WORKER_BOOT_ERROR` (3) and the master halts with "Worker failed to boot" and exit code 3,
  so the container stops instead of serving a broken app. An unreachable database is the
  exception: the master checked it before starting any worker (`bank/startup.py`), so a worker
  started during an outage boots and answers 503 until the database is back.

The served app is wrapped in `FreezeHeapAfterStartup`: once the lifespan has started, the
worker's heap is collected and frozen (`gc.freeze`), so the garbage collector's full
collections no longer scan the ~136k objects the startup built (spec, validators, SQLAlchemy),
which would stall every in-flight request of the worker for 65-100 ms each time.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]


class FreezeHeapAfterStartup:
    """ASGI wrapper: freeze the heap when the app reports its lifespan startup complete.

    The freeze happens before the message reaches the server, so the one full collection it
    costs is paid before the worker accepts connections. A failed startup freezes nothing.
    Requests go straight to the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def freeze_then_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()
            await send(message)

        await self.app(scope, receive, freeze_then_send)


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
    wsgi: ASGIApp  # set by gunicorn's `Worker.load_wsgi` (the name is gunicorn's)

    def load_wsgi(self) -> None:
        """Load the app as gunicorn does, then wrap it (see `FreezeHeapAfterStartup`)."""
        super().load_wsgi()
        self.wsgi = FreezeHeapAfterStartup(self.wsgi)
