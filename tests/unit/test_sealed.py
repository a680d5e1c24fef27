"""The suite is sealed from the person running it (`tests/sealed.py`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import botocore.session

from ..sealed import ROOT_VARIABLE


def test_no_aws_database_or_proxy_variable_of_the_caller_reaches_a_test() -> None:
    """The only AWS variables are the seal's own three; no PG*, proxy or collector setting."""
    aws = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    root = Path(os.environ[ROOT_VARIABLE])
    assert aws == {
        "AWS_CONFIG_FILE": str(root / "aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    assert (root / "aws" / "config").read_bytes() == b""
    assert (root / "aws" / "credentials").read_bytes() == b""
    others = [
        name
        for name in os.environ
        if name.startswith(("PG", "XDG_"))
        or name.lower().endswith("_proxy")
        or (
            name.startswith("COLLECTOR_")
            and not name.startswith(("COLLECTOR_TEST_", "COLLECTOR_SOAK_"))
        )
    ]
    assert others == []


def test_home_and_temp_folders_are_the_sessions_own() -> None:
    """HOME and the temp folder are private folders of the session, and HOME has no AWS files."""
    root = Path(os.environ[ROOT_VARIABLE])
    home, tmp = Path(os.environ["HOME"]), Path(tempfile.gettempdir())
    assert (home, tmp) == (root / "home", root / "tmp")
    assert Path("~").expanduser() == home
    assert not (home / ".aws").exists()
    assert home.stat().st_mode & 0o077 == 0
    assert root.stat().st_mode & 0o066 == 0
    assert tmp.stat().st_mode & 0o066 == 0


def test_botocore_finds_no_profile_region_or_credentials() -> None:
    """A botocore session made in a test resolves no profile, region or credentials at all."""
    session = botocore.session.Session()
    assert session.available_profiles == []
    assert session.get_config_variable("region") is None
    assert session.get_credentials() is None
