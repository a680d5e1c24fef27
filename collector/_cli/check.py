"""`collector check` (the preflight) and `collector run --dry-run` (the plan): what they
found, as text for people or, with `--log-format json`, one JSON event on stdout.

Both print every line through `escape_control`: account names and AWS's messages reach them.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import anyio

from .._config import OPTIONS, Settings, load_settings
from .._errors import ConfigError
from .._model.failures import FailureGroup, FailureTally
from .._model.regions import is_opt_in
from .._model.run import ExitCode
from .._service import CheckReport, PlannedAccount, RunPlan, check, plan_run
from .escape import escape_control
from .flags import given_flags
from .options import add_command, add_settings_options
from .output import configure_logging
from .summary import shown_message

EXAMPLES_SHOWN = 3


def add_check_command(commands: argparse._SubParsersAction[Any]) -> None:
    parser = add_command(
        commands,
        "check",
        "try what a run needs: credentials, accounts, roles, permissions, the database",
        example=(
            "collector check --organization --role-name AppFlowInventoryReader",
            "collector check --config /etc/appflow-inventory/collector.toml --sample 20",
        ),
        description=(
            "The preflight: the base credentials and the caller, the organization and the "
            "OUs it walks, the member role in each account (or --sample N of them), one call "
            "of each resource's listing per account in one region, and the database. "
            "Nothing is collected or written; failures are grouped by cause with their fix. "
            "Exit codes as run's: 0 all good, 1 some accounts would fail, 2 configuration "
            "or credentials, 3 the database."
        ),
    )
    parser.add_argument(
        "--sample",
        metavar="N",
        type=int,
        help="check N accounts spread over those a run lists (default all)",
    )
    add_settings_options(parser, OPTIONS)


def run_check(args: argparse.Namespace, verbose: int, debug_aws: bool) -> int:
    settings = load_settings(given_flags(args, *OPTIONS))
    configure_logging(settings.log_format, verbose, debug_aws=debug_aws)
    if args.sample is not None and args.sample < 1:
        raise ConfigError(f"--sample must be at least 1, not {args.sample}")
    report = anyio.run(lambda: check(settings, sample=args.sample))
    if settings.log_format == "json":
        print(json.dumps(check_event(report), default=str))
    else:
        print("\n".join(escape_control(line) for line in check_lines(report, settings)))
    return report.exit_code


# --- the check, as text -----------------------------------------------------------------------


def check_lines(report: CheckReport, settings: Settings) -> list[str]:
    lines: list[str] = []
    if report.caller is not None:
        caller = report.caller
        lines.append(
            f"ok    credentials: account {caller.account_id}, partition {caller.partition} "
            f"(STS in {caller.home_region})"
        )
    else:
        lines.append(f"FAIL  credentials: {shown_message(report.aws_error or '')}")
    if report.caller is not None and report.aws_error is not None:
        # What stopped the check after the caller was known: regions, OUs, accounts.
        lines.append(f"FAIL  configuration: {shown_message(report.aws_error)}")
    elif report.caller is not None:
        lines += _accounts_lines(report, settings)
        lines += _role_lines(report)
        lines += _listing_lines(report)
    lines += _database_lines(report)
    lines.append(_verdict(report.exit_code))
    return lines


def _accounts_lines(report: CheckReport, settings: Settings) -> list[str]:
    source = "organization" if settings.organization else "accounts"
    if report.accounts_error is not None:
        lines = [f"FAIL  {source}: {shown_message(report.accounts_error)}"]
        if settings.organization:
            lines.append(
                "      the base credentials (or --organization-role-arn) need organizations:"
                "ListAccounts, as the management or a delegated administrator account"
            )
        return lines
    found, listed = len(report.accounts), len(report.listed)
    line = f"ok    {source}: {found} found ({_counts(_states(report.accounts))}); {listed} to list"
    left = Counter(a.left_out for a in report.accounts if a.left_out)
    if left:
        line += f", {found - listed} left out ({_counts(left)})"
    lines = [line]
    if report.walked:
        lines.append(f"      OUs and roots walked: {', '.join(report.walked)}")
    return lines


def _role_lines(report: CheckReport) -> list[str]:
    checked = len(report.checked)
    if not checked:
        return []
    failed = sum(g.scopes for g in report.roles.failed)
    role = f"role {report.role_name}" if report.role_name else "the caller's own credentials"
    verb = "assumed" if report.role_name else "used"
    status = "FAIL " if failed else "ok   "
    assumed = checked - failed - (report.stood_in is not None)
    lines = [f"{status} {role}: {verb} in {assumed} of {checked} accounts"]
    if report.stood_in is not None:
        lines.append(
            f"      {report.stood_in}, the caller's own account, is read with the caller's "
            "credentials instead (--no-caller-credentials to refuse)"
        )
    return lines + _group_lines(report.roles.failed, checked)


def _listing_lines(report: CheckReport) -> list[str]:
    lines: list[str] = []
    tried = len(report.checked) - sum(g.scopes for g in report.roles.failed)
    if not tried:
        return lines
    for resource, tally in report.listings.items():
        failed = sum(g.scopes for g in tally.failed)
        status = "FAIL " if failed else "ok   "
        lines.append(
            f"{status} {resource.name} ({resource.api.operation}): allowed in "
            f"{tried - failed} of {tried} accounts"
        )
        lines += _group_lines(tally.failed, tried)
    return lines


def _group_lines(groups: Iterable[FailureGroup], of: int) -> list[str]:
    lines: list[str] = []
    for group in groups:
        cause = f" ({group.cause})" if group.cause and group.cause != group.error_code else ""
        lines.append(
            f"      {group.error_code}{cause} in {len(group.accounts)} of {of} accounts: "
            f"{group.fix}"
        )
        for example in group.examples:
            lines.append(
                f"        {example.account_id} {example.region}: {shown_message(example.message)}"
            )
        if group.scopes > len(group.examples):
            lines.append(f"        ... and {group.scopes - len(group.examples)} more")
    return lines


def _database_lines(report: CheckReport) -> list[str]:
    if report.database_error is not None:
        return [f"FAIL  database: {shown_message(report.database_error)}"]
    status = report.database
    assert status is not None
    state = {
        "missing": "does not exist yet; a run creates it",
        "empty": "has no schema yet; a run builds it",
        "behind": f"schema at {status.revision}; a run migrates it to {status.head}",
        "current": f"schema current ({status.head})",
        "newer": (
            f"schema at {status.revision}, newer than this collector knows ({status.head}): "
            "upgrade the collector"
        ),
    }[status.state]
    return [f"{'ok   ' if status.usable else 'FAIL '} database {status.url}: {state}"]


def _verdict(code: ExitCode) -> str:
    return {
        ExitCode.OK: "ready: a run would start and list every account checked",
        ExitCode.PARTIAL: "a run would start, but the failures above would fail their scopes",
        ExitCode.USAGE: "a run would stop at once: fix the configuration or credentials",
        ExitCode.CANNOT_RUN: "a run could not start: fix the database (or reach STS)",
    }.get(code, str(code))


def _states(accounts: Iterable[PlannedAccount]) -> Counter[str]:
    return Counter(a.account.state or a.account.source for a in accounts)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {key}" for key, n in counter.most_common())


# --- the check, as JSON -----------------------------------------------------------------------


def check_event(report: CheckReport) -> dict[str, Any]:
    caller = report.caller
    tried = len(report.checked) - sum(g.scopes for g in report.roles.failed)
    return _event(
        "check_finished",
        "error" if report.exit_code else "info",
        _verdict(report.exit_code),
        exit_code=int(report.exit_code),
        caller=None
        if caller is None
        else {
            "account": caller.account_id,
            "partition": caller.partition,
            "region": caller.home_region,
        },
        error=None if report.aws_error is None else shown_message(report.aws_error),
        accounts={
            "found": len(report.accounts),
            "listed": len(report.listed),
            "states": dict(_states(report.accounts)),
            "left_out": dict(Counter(a.left_out for a in report.accounts if a.left_out)),
            "walked": list(report.walked),
            "error": None
            if report.accounts_error is None
            else shown_message(report.accounts_error),
        },
        role={
            "name": report.role_name,
            "checked": len(report.checked),
            "caller_credentials_used": report.stood_in,
            "failures": _groups(report.roles),
        },
        listings={
            resource.name: {"checked": tried, "failures": _groups(tally)}
            for resource, tally in report.listings.items()
        },
        database=None
        if report.database is None
        else {
            "url": report.database.url,
            "state": report.database.state,
            "revision": report.database.revision,
            "head": report.database.head,
        },
        database_error=None
        if report.database_error is None
        else shown_message(report.database_error),
    )


def _groups(tally: FailureTally) -> list[dict[str, Any]]:
    found = []
    for group in tally.failed:
        shown = group.as_dict()
        shown["examples"] = [
            {**e, "message": shown_message(e["message"])} for e in shown["examples"]
        ]
        found.append(shown)
    return found


def _event(name: str, level: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "level": level,
        "logger": "collector",
        "event": name,
        "message": message,
        **fields,
    }


# --- the plan ---------------------------------------------------------------------------------


def run_dry_run(settings: Settings) -> int:
    """Print what a run with `settings` would collect; list nothing, write nothing."""
    plan = anyio.run(plan_run, settings)
    code = ExitCode.PARTIAL if plan.error else ExitCode.OK
    if settings.log_format == "json":
        print(json.dumps(plan_event(plan, code), default=str))
    else:
        print("\n".join(escape_control(line) for line in plan_lines(plan, settings)))
    return code


def plan_lines(plan: RunPlan, settings: Settings) -> list[str]:
    caller = plan.caller
    lines = [
        "plan (nothing listed, nothing written):",
        f"caller: account {caller.account_id}, partition {caller.partition} "
        f"(STS in {caller.home_region})",
    ]
    if plan.error is not None:
        return [*lines, f"accounts: cannot be found: {shown_message(plan.error)}"]
    listed = plan.listed
    lines.append(
        f"accounts: {len(plan.accounts)} found ({_counts(_states(plan.accounts))}); "
        f"{len(listed)} to list"
    )
    by_reason: dict[str, list[str]] = {}
    for account in plan.accounts:
        if account.left_out:
            by_reason.setdefault(account.left_out, []).append(account.account.account_id)
    for reason, ids in by_reason.items():
        more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
        lines.append(f"  left out, {reason}: {len(ids)} ({', '.join(ids[:5])}{more})")
    regions = plan.regions
    lines.append(
        f"regions: {len(regions)} ({', '.join(sorted(regions))})" if regions else "regions: none"
    )
    lines.append(f"scopes: {plan.scopes} (account, region) pairs to list")
    opt_in = sorted(r for r in regions if is_opt_in(r))
    if opt_in:
        lines.append(
            f"  {plan.opt_in_scopes} in opt-in regions ({', '.join(opt_in)}): skipped as "
            "region_not_enabled where the account has not enabled them, known once listed"
        )
    operations = ", ".join(f"{r.name} ({r.api.operation})" for r in plan.resources)
    lines.append(f"resources: {operations}")
    if plan.filtered:
        lines.append("  a targeted refresh: nothing will be marked deleted")
    lines.append(f"database: {plan.database}")
    return lines


def plan_event(plan: RunPlan, code: ExitCode) -> dict[str, Any]:
    caller = plan.caller
    return _event(
        "run_planned",
        "warning" if plan.error else "info",
        f"{plan.scopes} scopes in {len(plan.listed)} accounts",
        exit_code=int(code),
        dry_run=True,
        caller={
            "account": caller.account_id,
            "partition": caller.partition,
            "region": caller.home_region,
        },
        error=None if plan.error is None else shown_message(plan.error),
        scopes=plan.scopes,
        opt_in_scopes=plan.opt_in_scopes,
        regions=dict(sorted(plan.regions.items())),
        resources=[r.name for r in plan.resources],
        filtered=plan.filtered,
        database=plan.database,
        accounts=[
            {
                "account": a.account.account_id,
                "name": a.account.name,
                "state": a.account.state,
                "source": a.account.source,
                "regions": list(a.regions),
                "left_out": a.left_out,
            }
            for a in plan.accounts
        ],
    )
