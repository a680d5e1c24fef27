"""Endpoints that do not answer: one that refuses connections, one that accepts and is silent.

Point a service at one with its `AWS_ENDPOINT_URL_<SERVICE>` variable to play what a VPC
without that service's endpoint, or a proxy that drops it, does to a client:

    with DeadEndpoint("silent") as ec2:
        env = {**sim.env(), "AWS_ENDPOINT_URL_EC2": ec2.url}
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Literal

Mode = Literal["refuse", "silent"]


class DeadEndpoint:
    """A loopback port that refuses connections (`refuse`) or accepts and never answers
    (`silent`: the kernel completes the handshake, nothing ever reads or writes)."""

    def __init__(self, mode: Mode, host: str = "127.0.0.1") -> None:
        self.mode = mode
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        if mode == "silent":
            self._socket.listen(1024)
        # A bound socket that does not listen makes the kernel refuse connections to it.
        self.host = host
        self.port = int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> DeadEndpoint:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
