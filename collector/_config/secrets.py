"""Credentials read from files, never from the command line: the Pushgateway's.

`ps` shows every process's arguments to every user of the machine, so a credential is
named by the file that holds it (a Kubernetes Secret mounted as a volume, say).
"""

from __future__ import annotations

import base64
from pathlib import Path

from .._errors import ConfigError
from .options import Option
from .settings import Settings


def read_secret_file(path: str, flag: str) -> str:
    """The one line a credential file holds (a trailing newline is ignored); `ConfigError`
    naming `flag` and the file, never the content, if it cannot be read or is not one line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{flag} {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{flag} {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{flag} {path} is not UTF-8 text") from None
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise ConfigError(f"{flag} {path} is empty")
    if not secret.isprintable():
        raise ConfigError(f"{flag} {path} must hold one line of printable text")
    return secret


def pushgateway_authorization(settings: Settings) -> str | None:
    """The `Authorization` header of the pushes, from the settings' credential file."""
    if settings.pushgateway_token_file is not None:
        flag = Option.flag("pushgateway_token_file")
        return f"Bearer {read_secret_file(settings.pushgateway_token_file, flag)}"
    if settings.pushgateway_basic_auth_file is not None:
        flag = Option.flag("pushgateway_basic_auth_file")
        pair = read_secret_file(settings.pushgateway_basic_auth_file, flag)
        if ":" not in pair:
            raise ConfigError(f"{flag} {settings.pushgateway_basic_auth_file}: not USER:PASSWORD")
        return "Basic " + base64.b64encode(pair.encode()).decode()
    return None
