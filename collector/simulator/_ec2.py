"""EC2 DescribeRegions: the regions an account has enabled (EC2 query protocol)."""

from __future__ import annotations

from collections.abc import Iterator

from ._auth import Identity, invalid_token_error
from ._catalog import ALL_REGIONS, DEFAULT_REGIONS, OPT_IN_REGIONS
from ._context import Call, ServerState
from ._protocols import EC2, DropConnection, Reply, SimError, ec2_reply, xml_element

_DEFAULTS = frozenset(DEFAULT_REGIONS)
_KNOWN = frozenset(ALL_REGIONS)


def opt_in_status(region: str, enabled_opt_ins: set[str]) -> str:
    """`opt-in-not-required`, `opted-in` or `not-opted-in`."""
    if region in _DEFAULTS:
        return "opt-in-not-required"
    return "opted-in" if region in enabled_opt_ins else "not-opted-in"


def _indexed(form: dict[str, str], prefix: str) -> Iterator[str]:
    """Values of `prefix.1`, `prefix.2`, ... in order."""
    index = 1
    while f"{prefix}.{index}" in form:
        yield form[f"{prefix}.{index}"]
        index += 1


def _filters(form: dict[str, str]) -> dict[str, set[str]]:
    filters: dict[str, set[str]] = {}
    for position, name in enumerate(_indexed(form, "Filter"), start=1):
        filters[name] = set(_indexed(form, f"Filter.{position}.Value"))
    return filters


def _region_item(region: str, status: str) -> str:
    return (
        f"<item>{xml_element('regionName', region)}"
        f"{xml_element('regionEndpoint', f'ec2.{region}.amazonaws.com')}"
        f"{xml_element('optInStatus', status)}</item>"
    )


def _describe_regions(state: ServerState, call: Call, identity: Identity) -> Reply:
    account = state.org.accounts.get(identity.account_id)
    opt_ins = set(account.enabled_opt_in_regions) if account else set()
    if call.region not in _KNOWN:
        raise DropConnection  # no such endpoint: as close as a server gets to a DNS failure
    if call.region in OPT_IN_REGIONS and call.region not in opt_ins:
        raise invalid_token_error(EC2)
    all_regions = call.form.get("AllRegions", "false").lower() == "true"
    names = set(_indexed(call.form, "RegionName"))
    filters = _filters(call.form)
    items = []
    for region in ALL_REGIONS:
        status = opt_in_status(region, opt_ins)
        fields = {
            "region-name": region,
            "opt-in-status": status,
            "endpoint": f"ec2.{region}.amazonaws.com",
        }
        if status == "not-opted-in" and not all_regions and region not in names:
            continue
        if names and region not in names:
            continue
        if any(fields.get(key) not in values for key, values in filters.items()):
            continue
        items.append(_region_item(region, status))
    return ec2_reply(
        "DescribeRegions", f"<regionInfo>{''.join(items)}</regionInfo>", call.request_id
    )


def handle_ec2(state: ServerState, call: Call, identity: Identity) -> Reply:
    """Answer one EC2 call."""
    if call.operation == "DescribeRegions":
        return _describe_regions(state, call, identity)
    message = f"The action {call.operation} is not valid for this web service."
    raise SimError("InvalidAction", message, 400)
