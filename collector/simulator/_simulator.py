"""`Simulator`: the server running on a background thread with its own event loop.

The thread lets a test drive the server with aiobotocore on the test's own loop (or from
a subprocess) while it keeps changing the organization and the faults.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from ._auth import CredentialStore
from ._context import ServerState
from ._faults import Faults
from ._model import Organization
from ._pages import PageCache
from ._server import start_server
from ._stats import Stats
from ._tokens import TokenCodec

ENDPOINT_SERVICES = ("STS", "APPFLOW", "ORGANIZATIONS", "EC2")

BASE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def make_state(
    org: Organization,
    faults: Faults,
    clock: Callable[[], float],
    credential_lifetime_cap: float | None,
    token_ttl: float,
) -> ServerState:
    """Fresh server state around an organization."""
    return ServerState(
        org=org,
        faults=faults,
        clock=clock,
        credentials=CredentialStore(),
        tokens=TokenCodec(secrets.token_bytes(32), clock, token_ttl),
        pages=PageCache(org),
        stats=Stats(),
        credential_lifetime_cap=credential_lifetime_cap,
    )


def endpoint_env(endpoint_url: str) -> dict[str, str]:
    """Environment for a process that should reach a simulator at `endpoint_url`."""
    env = {f"AWS_ENDPOINT_URL_{name}": endpoint_url for name in ENDPOINT_SERVICES}
    env.update(
        AWS_ACCESS_KEY_ID=BASE_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=BASE_SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


class Simulator:
    """Serve an organization on `host:port` (0: any free port) from a background thread."""

    def __init__(
        self,
        org: Organization,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credential_lifetime_cap: float | None = None,
        token_ttl: float = 3600.0,
    ) -> None:
        self.org = org
        self.faults = faults if faults is not None else Faults()
        self.host = host
        self._requested_port = port
        self._state = make_state(org, self.faults, clock, credential_lifetime_cap, token_ttl)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None

    @property
    def stats(self) -> Stats:
        """Request counters (see `Stats`)."""
        return self._state.stats

    @property
    def port(self) -> int:
        """The bound port; only while running."""
        if self._port is None:
            raise RuntimeError("the simulator is not running")
        return self._port

    @property
    def endpoint_url(self) -> str:
        """`http://host:port`, the endpoint of all four services."""
        return f"http://{self.host}:{self.port}"

    @property
    def credential_lifetime_cap(self) -> float | None:
        """Longest lifetime of credentials AssumeRole hands out (None: as requested)."""
        return self._state.credential_lifetime_cap

    @credential_lifetime_cap.setter
    def credential_lifetime_cap(self, value: float | None) -> None:
        self._state.credential_lifetime_cap = value

    def env(self) -> dict[str, str]:
        """`AWS_ENDPOINT_URL_*` for the four services plus dummy base credentials."""
        return endpoint_env(self.endpoint_url)

    def start(self) -> Simulator:
        """Start serving; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        ready = threading.Event()
        failures: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failures), name="aws-simulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failures:
            self._thread.join()
            self._thread = None
            raise failures[0]
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread, self._loop, self._port = None, None, None

    def _serve(self, ready: threading.Event, failures: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        runner: web.AppRunner | None = None
        try:
            runner, self._port = loop.run_until_complete(
                start_server(self._state, self.host, self._requested_port)
            )
            self._loop = loop
        except BaseException as exc:  # reported to the thread that called start()
            failures.append(exc)
        finally:
            ready.set()
        if runner is not None:
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
        loop.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
