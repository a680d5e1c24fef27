"""Helpers shared by the tests: run the CLI, make and read databases, check version histories,
read the deployment kit.

Test modules and conftest files import from here (and from `docs.py`, which reads the
documentation), and never from each other, so that each helper has one home.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
import sqlalchemy as sa
import yaml

from collector import upgrade
from collector._aws import RetryPolicy
from collector._cli import main
from collector._config import Settings
from collector._model.resources import PROFILES
from collector._model.resources.profiles import ProfileRecord
from collector._model.run import RunResult, RunStatus
from collector._model.scopes import Listing, Scope, ScopeOutcome, ScopeStatus
from collector._service import run_collection
from collector._store import Store, create_engine
from collector.simulator import PROFILES as PROFILE_ITEMS
from collector.simulator import Organization, Simulator

from .docs import all_blocks

ROLE = "AppFlowInventoryReader"
"""The role `collector run` assumes in each member account of a simulated organization."""

POSTGRES_URL = os.environ.get("COLLECTOR_TEST_POSTGRES_URL")
"""The throwaway server's own database, set by `scripts/with-postgres`."""

# --- the command line ------------------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_args(url: str, regions: str | Iterable[str], *extra: str) -> list[str]:
    """`collector run` of the whole organization through `ROLE` into `url`.

    `regions` is the `--regions` value ("all", or one region) or a sequence of regions.
    """
    listed = regions if isinstance(regions, str) else ",".join(regions)
    return [
        "run",
        "--database-url",
        url,
        "--organization",
        "--role-name",
        ROLE,
        "--regions",
        listed,
        *extra,
    ]


def run_settings(url: str, regions: Iterable[str], **options: Any) -> Settings:
    """What `run_args` asks for, as the settings `run_collection` takes (`options` for the
    rest): for the runs a test drives on an injected clock."""
    return Settings(
        database_url=url, organization=True, role_name=ROLE, regions=tuple(regions), **options
    )


def collector_command(*args: str) -> list[str]:
    """`python -m collector ARGS`, to start the collector as its own process."""
    return [sys.executable, "-m", "collector", *args]


def run_module(
    module: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` in the repository root, with `env` over this environment."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_main(args: Sequence[str], env: Mapping[str, str]) -> int:
    """`collector ARGS` in this process with `env` set, as cron would run it; the exit code.

    Whatever the command sets in the environment (the demo points it at its simulator) and
    in logging is undone afterwards, as the end of a process would undo it: a handler left on
    the root logger would write to this test's closed capture from another test's threads."""
    saved = dict(os.environ)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        os.environ.update(env)
        return main(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.root.manager.loggerDict.items():
            # Only where it changed: every setLevel clears every logger's cache.
            wanted = levels.get(name, logging.NOTSET)
            if isinstance(logger, logging.Logger) and logger.level != wanted:
                logger.setLevel(wanted)
        logging.captureWarnings(False)


@dataclass(frozen=True)
class Cli:
    """`collector` run in this process, its output captured (the `cli` fixture)."""

    capsys: pytest.CaptureFixture[str]

    def run(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> CliResult:
        code = run_main(args, env or {})
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def run_process(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> CliResult:
        """`collector ARGS` as a process of its own: for a login PostgreSQL refuses. asyncpg
        closes such a connection gracefully once TLS is up (it waits for the server's
        close_notify); a process that ends there exits, and the system closes the socket,
        but an event loop closed at that moment in this process would leave it to the
        garbage collector: a ResourceWarning failing whichever test runs next."""
        done = run_module("collector", *args, env=env)
        return CliResult(done.returncode, done.stdout, done.stderr)

    def collect(
        self, url: str, sim: Simulator, regions: str | Iterable[str], *extra: str
    ) -> CliResult:
        """`collector run` of the simulator's organization into `url` (see `run_args`)."""
        return self.run(run_args(url, regions, *extra), sim.env())


class SharedClock:
    """A clock that moves only when the code under test sleeps; a simulator may read it too
    (it starts at the epoch time now, as the simulator's credentials expire by it)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def collect_on_clock(
    sim: Simulator,
    settings: Settings,
    clock: SharedClock,
    seed: int,
    monkeypatch: pytest.MonkeyPatch,
    max_attempts: int = 5,
) -> RunResult:
    """One `run_collection` against the running `sim`, every wait (retries and the accounts'
    pacing) on `clock`, the jitter drawn from `seed`: for runs whose backoff adds up to tens
    of seconds, which no test should sleep through."""
    for key, value in sim.env().items():
        monkeypatch.setenv(key, value)
    retry = RetryPolicy(
        max_attempts=max_attempts,
        sleep=clock.sleep,
        now=clock,
        random=random.Random(seed).random,
    )
    return anyio.run(lambda: run_collection(settings, retry=retry))


def wait_for(condition: Callable[[], bool], what: str, *, timeout: float = 60.0) -> None:
    """Poll `condition()` until it holds; fail the test if it does not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- databases -------------------------------------------------------------------------------


def fetch(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query, as dicts, from a user's database URL (SQLite or PostgreSQL)."""

    async def go() -> list[dict[str, Any]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(sa.text(sql), params)
                return [dict(row._mapping) for row in result]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def execute(url: str, sql: str, **params: Any) -> None:
    """Run one statement, committed, in a user's database (SQLite or PostgreSQL)."""

    async def go() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(sql), params)
        finally:
            await engine.dispose()

    asyncio.run(go())


def as_json(value: Any) -> Any:
    """JSON columns come back as text on SQLite and decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def postgres_execute(url: str, *statements: str) -> None:
    """Run `statements` one by one, outside any transaction, in the PostgreSQL database at `url`."""

    parsed = sa.make_url(url)
    _postgres_run(
        statements,
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        database=parsed.database,
    )


def _postgres_run(statements: Sequence[str], **connect: Any) -> None:
    """Run `statements` one by one over one asyncpg connection made with `connect`."""

    async def go() -> None:
        conn = await asyncpg.connect(**connect)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(go())


def _admin(*statements: str) -> None:
    assert POSTGRES_URL is not None
    postgres_execute(POSTGRES_URL, *statements)


def _database_name(url: str) -> str:
    return str(sa.make_url(url).database)


def _require_server(variable: str = "COLLECTOR_TEST_POSTGRES_URL") -> str:
    """The value of a variable `scripts/with-postgres` sets; without it the test is skipped,
    or failed in CI."""
    value = os.environ.get(variable)
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{variable} is not set: run the tests with `make test`")
        pytest.skip("no PostgreSQL server: run the tests with `make test`")
    return value


def postgres_database(options: str = "") -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards.

    `options` go to CREATE DATABASE (a template, a collation, an owner). Without a server
    this skips the test, or fails it in CI.
    """
    server = _require_server()
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}" {options}')
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_port() -> int:
    """The port of the test server (on 127.0.0.1)."""
    port = sa.make_url(_require_server()).port
    assert port is not None
    return port


def postgres_ca() -> Path:
    """The folder of the CA that signed the test server's certificate for 127.0.0.1: its
    `ca.crt`, and its `ca.key` to sign client certificates with."""
    return Path(_require_server("COLLECTOR_TEST_PG_CA"))


def postgres_password_role(password: str) -> Iterator[str]:
    """A new role that logs in to the test server over TCP with `password` (scram-sha-256),
    owning a database of its own name; both dropped afterwards. Yields the name."""
    _require_server()
    name = f"r_{uuid.uuid4().hex[:16]}"
    _admin(
        f"CREATE ROLE \"{name}\" LOGIN IN ROLE password_users PASSWORD '{password}'",
        f'CREATE DATABASE "{name}" OWNER "{name}"',
    )
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{name}"')


def copy_postgres_database(source: str, target: str) -> None:
    """Replace the database at URL `target` with a copy of the one at URL `source`."""
    source_name, target_name = _database_name(source), _database_name(target)
    _admin(
        f'DROP DATABASE "{target_name}" WITH (FORCE)',
        f'CREATE DATABASE "{target_name}" TEMPLATE "{source_name}"',
    )


def migrate(url: str) -> None:
    """Build the collector's schema in the database at `url` (`collector.upgrade`)."""

    async def go() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())


class MigratedTemplates:
    """A database of each kind migrated once (per pytest worker), copied for each test that
    wants a migrated inventory: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on
    PostgreSQL. Migrating from scratch for every test costs far more than the copy."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._sqlite: Path | None = None
        self._postgres: Iterator[str] | None = None
        self._postgres_name = ""

    def sqlite(self, path: Path) -> str:
        """A migrated SQLite database at `path` (new, mode 0600 like the collector's own)."""
        if self._sqlite is None:
            template = self._directory / "template.db"
            migrate(f"sqlite:///{template}")
            self._sqlite = template
        with self._sqlite.open("rb") as source:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as target:
                shutil.copyfileobj(source, target)
        return f"sqlite:///{path}"

    def postgres(self) -> Iterator[str]:
        """A migrated PostgreSQL database of its own on the test server; dropped afterwards."""
        if self._postgres is None:
            self._postgres = postgres_database()
            url = next(self._postgres)
            migrate(url)
            self._postgres_name = _database_name(url)
        yield from postgres_database(f'TEMPLATE "{self._postgres_name}"')

    def close(self) -> None:
        if self._postgres is not None:
            next(self._postgres, None)


@dataclass(frozen=True)
class PostgresCluster:
    """A PostgreSQL server of a test's own, on 127.0.0.1 (see `postgres_cluster`), for the
    tests that stop the server itself; the others share the run's (`postgres_database`)."""

    port: int
    data: Path
    """The data directory; the server's Unix socket is in it too."""
    pg_bin: Path
    options: str
    """The server's command-line settings, to start it again as it was."""

    @property
    def url(self) -> str:
        """The URL of the `postgres` database as the superuser `collector`, over TCP."""
        return f"postgresql://collector@127.0.0.1:{self.port}/postgres"

    def admin(self, *statements: str, database: str = "postgres") -> None:
        """Run `statements` as the superuser `collector`, through the trusted Unix socket."""
        _postgres_run(
            statements, host=str(self.data), port=self.port, user="collector", database=database
        )

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`pg_ctl ARGS` on this server, as the user that owns it."""
        command = [str(self.pg_bin / "pg_ctl"), "-D", str(self.data), *args]
        return subprocess.run(
            [*_server_owner(), *command],
            cwd=self.data.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self) -> None:
        """Start the server (again) with its settings; returns once it accepts connections."""
        log = self.data.parent / "server.log"
        done = self.pg_ctl("-l", str(log), "-w", "-t", "60", "-o", self.options, "start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}")

    def stop(self) -> None:
        """Stop the server at once, as a crash would (`-m immediate`)."""
        done = self.pg_ctl("-m", "immediate", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stdout}{done.stderr}")

    def running(self) -> bool:
        return self.pg_ctl("status").returncode == 0


def _server_owner() -> list[str]:
    """PostgreSQL refuses to run as root: then its commands run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def postgres_cluster(hba: Sequence[str]) -> Iterator[PostgresCluster]:
    """A new PostgreSQL server with its own `pg_hba.conf` lines; removed after.

    The superuser `collector` is trusted on the Unix socket. Without server binaries this
    skips the test (fails in CI).
    """
    pg_bin = Path(_require_server("COLLECTOR_TEST_PG_BIN"))
    as_owner = _server_owner()
    top = Path(tempfile.mkdtemp(prefix="collector-pgtest."))
    top.chmod(0o755)
    data = top / "db"
    if as_owner:
        shutil.chown(top, "postgres")

    def run(*command: str) -> None:
        done = subprocess.run(
            [*as_owner, *command], cwd=top, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    port = _free_port()
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "fsync": "off",
        "unix_socket_directories": str(data),
    }
    cluster = PostgresCluster(
        port, data, pg_bin, " ".join(f"-c {key}={value}" for key, value in options.items())
    )
    try:
        run(
            str(pg_bin / "initdb"), "-D", str(data), "-U", "collector", "--auth=trust", "-E", "UTF8"
        )
        (data / "pg_hba.conf").write_text("local all all trust\n" + "\n".join(hba) + "\n")
        if as_owner:
            shutil.chown(data / "pg_hba.conf", "postgres")
        cluster.start()
        yield cluster
    finally:
        cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(top, ignore_errors=True)


# --- the store alone: scope outcomes built by hand ---------------------------------------------


def scope_outcome(
    scope: Scope,
    at: datetime,
    profiles: Sequence[ProfileRecord] = (),
    *,
    complete: bool = True,
    status: ScopeStatus = ScopeStatus.SUCCEEDED,
    error_code: str | None = None,
    pages: int = 1,
    started: datetime | None = None,
) -> ScopeOutcome:
    """What listing one scope's connector profiles produced, as the store receives it, for
    tests of the store alone. The one place tests assemble a scope outcome, so that a change
    of the model's types is a change here."""
    listing = Listing(
        status,
        records=list(profiles),
        complete=complete,
        pages=pages,
        attempts=pages,
        error_code=error_code,
    )
    return ScopeOutcome.of(scope, at if started is None else started, at, {PROFILES: listing})


def store_run(url: str, run_id: str, at: datetime, outcomes: Sequence[ScopeOutcome]) -> None:
    """One run written through the store alone: begun at `at`, its outcomes written in one
    batch, finished as succeeded."""

    async def go() -> None:
        engine = create_engine(url)
        try:
            store = Store(engine)
            await store.begin_run(RunResult(run_id, at), filtered=False, run_label=None, shard=None)
            await store.write_scopes(run_id, outcomes)
            await store.finish_run(
                RunResult(run_id, at, status=RunStatus.SUCCEEDED, finished_at=at)
            )
        finally:
            await engine.dispose()

    asyncio.run(go())


# --- simulated AWS ---------------------------------------------------------------------------


def profile_arns(org: Organization, region: str | None = None) -> set[str]:
    """The ARN of every connector profile the simulated organization holds (in `region`
    alone, if given)."""
    return {
        str(profile["connectorProfileArn"])
        for (_, where), profile in org.all_items(PROFILE_ITEMS)
        if region in (None, where)
    }


def issued_credentials(sim: Simulator) -> list[tuple[str, str, str]]:
    """(access key id, secret access key, session token) of every role the simulator let
    someone assume so far."""
    identities = sim._state.credentials._issued.values()
    return [
        (i.session.access_key_id, i.session.secret_access_key, i.session.session_token)
        for i in identities
        if i.session is not None
    ]


# --- version histories -----------------------------------------------------------------------


def canonical_hash(snapshot: Any) -> str:
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def assert_history_consistent(url: str) -> dict[str, list[dict[str, Any]]]:
    """Check every ARN's version chain against its `connector_profiles` row; return the chains.

    Versions run 1..n, start with the one `created`, alternate sensibly (`restored` only after
    `deleted`), chain `valid_to` to the next `valid_from`, and the last one is the row's state.
    """
    rows = {
        r["connector_profile_arn"]: r
        for r in fetch(
            url,
            "SELECT connector_profile_arn, version, content_hash, deleted_at, properties "
            "FROM connector_profiles",
        )
    }
    chains: dict[str, list[dict[str, Any]]] = {arn: [] for arn in rows}
    for v in fetch(
        url,
        "SELECT connector_profile_arn, version, change_type, valid_from, valid_to, "
        "snapshot, content_hash, changed_fields FROM connector_profile_versions "
        "ORDER BY connector_profile_arn, version",
    ):
        assert v["connector_profile_arn"] in chains, f"version without profile row: {v}"
        chains[v["connector_profile_arn"]].append(v)
    for arn, chain in chains.items():
        kinds = [v["change_type"] for v in chain]
        assert [v["version"] for v in chain] == list(range(1, len(chain) + 1)), arn
        assert kinds[:1] == ["created"], (arn, kinds)
        assert kinds.count("created") == 1, (arn, kinds)
        for before, after in itertools.pairwise(chain):
            assert before["valid_to"] == after["valid_from"], (arn, before, after)
            allowed = {"restored"} if before["change_type"] == "deleted" else {"updated", "deleted"}
            assert after["change_type"] in allowed, (arn, kinds)
            if after["change_type"] == "deleted":
                assert as_json(after["snapshot"]) == as_json(before["snapshot"]), arn
                assert after["content_hash"] == before["content_hash"], arn
            if after["change_type"] == "updated":
                assert after["content_hash"] != before["content_hash"], arn
                assert as_json(after["changed_fields"]), arn
        last = chain[-1]
        assert last["valid_to"] is None, arn
        for v in chain:
            assert canonical_hash(as_json(v["snapshot"])) == v["content_hash"], (arn, v["version"])
        row = rows[arn]
        assert row["version"] == last["version"], arn
        assert row["content_hash"] == last["content_hash"], arn
        assert (row["deleted_at"] is not None) == (last["change_type"] == "deleted"), arn
        snapshot = as_json(last["snapshot"])
        assert as_json(row["properties"]) == (snapshot.get("connectorProfileProperties") or {})
    return chains


# --- the deployment kit: deploy/, the Dockerfile, the documented policies ---------------------

ROOT = Path(__file__).resolve().parents[1]
"""The repository root."""
CLOUDFORMATION = ROOT / "deploy" / "cloudformation"
KUBERNETES = ROOT / "deploy" / "kubernetes"
TEMPLATES = ("member-role.yaml", "collector-role.yaml", "organization-role.yaml")


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref X` becomes {"Ref": "X"})."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _tagged)


def template(name: str) -> dict[str, Any]:
    """A CloudFormation template of deploy/cloudformation, as a plain document."""
    loaded = yaml.load((CLOUDFORMATION / name).read_text(), Loader=_CloudFormationLoader)
    assert isinstance(loaded, dict)
    return loaded


def _documents(value: Any) -> Iterator[Any]:
    """Every branch a policy document can take: both arms of `Fn::If`, the text of a
    `Fn::Sub` (JSON with `${...}` placeholders) decoded."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        for branch in value["Fn::If"][1:]:
            yield from _documents(branch)
    elif isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
        yield json.loads(text)
    elif isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return
    else:
        yield value


def _statements(document: Any) -> Iterator[dict[str, Any]]:
    for doc in _documents(document):
        statements = doc["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            yield from _documents(statement)


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def roles(name: str) -> dict[str, dict[str, Any]]:
    """The IAM roles a template declares, by logical id."""
    resources = template(name)["Resources"]
    return {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"}


def permission_actions(name: str) -> set[str]:
    """The IAM actions a template's roles are allowed (their policies, not trust)."""
    found: set[str] = set()
    for role in roles(name).values():
        for policy in role.get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                assert statement["Effect"] == "Allow", statement
                found |= _actions(statement)
    return found


def trust_statements(name: str) -> list[dict[str, Any]]:
    """Every trust statement a template's roles can have, across its conditions."""
    return [
        statement
        for role in roles(name).values()
        for statement in _statements(role["AssumeRolePolicyDocument"])
    ]


def documented_policy_actions() -> set[str]:
    """The IAM actions of the policies shown in the README and the docs/ pages (their JSON
    blocks with an `Action`, trust policies aside)."""
    found: set[str] = set()
    blocks = all_blocks("json")
    assert {block.page for block in blocks} >= {"organization.md", "security.md"}
    for block in blocks:
        document = json.loads(block.text)
        for statement in document.get("Statement", []):
            if "Principal" in statement:
                continue  # a trust policy: who may assume, not what the role may do
            found |= _actions(statement)
    return found


def kubernetes_documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of one manifest file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]
