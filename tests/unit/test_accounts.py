"""Which accounts a run collects: the OU walk, the scope rules and the Organizations paging."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from collector._aws.organizations import OrganizationCalls, organization_accounts
from collector._aws.retry import Attempts, RetryPolicy
from collector._config import Settings
from collector._errors import AwsError, ConfigError, ErrorKind
from collector._model.organization import AccountInfo, OrganizationScope, accounts_under
from collector._service.accounts import organization_scope, with_regions

ROOT = "r-ab12"
# root
# ├── security           (a1)
# └── workloads          (a2)
#     ├── prod           (a3, a4)
#     │   └── payments   (a5)
#     └── dev            (a6)
TREE: dict[str, tuple[list[str], list[str]]] = {
    ROOT: (["ou-ab12-security", "ou-ab12-workload"], ["000000000000"]),
    "ou-ab12-security": ([], ["111111111111"]),
    "ou-ab12-workload": (["ou-ab12-prodprod", "ou-ab12-devdevde"], ["222222222222"]),
    "ou-ab12-prodprod": (["ou-ab12-payments"], ["333333333333", "444444444444"]),
    "ou-ab12-payments": ([], ["555555555555"]),
    "ou-ab12-devdevde": ([], ["666666666666"]),
}


class FakeTree:
    """A `ChildrenOf` over `TREE` that counts how often each parent is asked for."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    async def __call__(self, parent: str) -> tuple[list[str], list[str]]:
        self.asked[parent] += 1
        return TREE[parent]


async def no_sleep(_: float) -> None:
    return None


RETRY = RetryPolicy(max_attempts=3, sleep=no_sleep, random=lambda: 0.0)


def client_error(code: str, status: int = 400) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "Operation")


class FakeOrganizations:
    """Organizations with pages of `page_size`, answering from `TREE` and `accounts`."""

    def __init__(self, accounts: list[dict[str, Any]], page_size: int = 2) -> None:
        self.accounts = accounts
        self.page_size = page_size
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[ClientError] = []

    def _page(self, operation: str, params: Mapping[str, Any], key: str, items: list[Any]) -> Any:
        self.requests.append((operation, dict(params)))
        if self.failures:
            raise self.failures.pop(0)
        start = int(params.get("NextToken", "0"))
        end = start + self.page_size
        page: dict[str, Any] = {key: items[start:end]}
        if end < len(items):
            page["NextToken"] = str(end)
        return page

    async def list_accounts(self, **params: Any) -> Any:
        return self._page("ListAccounts", params, "Accounts", self.accounts)

    async def list_organizational_units_for_parent(self, **params: Any) -> Any:
        if params["ParentId"] not in TREE:
            raise client_error("ParentNotFoundException")
        ous = [{"Id": ou} for ou in TREE[params["ParentId"]][0]]
        return self._page("ListOrganizationalUnitsForParent", params, "OrganizationalUnits", ous)

    async def list_accounts_for_parent(self, **params: Any) -> Any:
        accounts = [{"Id": a} for a in TREE[params["ParentId"]][1]]
        return self._page("ListAccountsForParent", params, "Accounts", accounts)


def calls(client: Any, *given: str) -> OrganizationCalls:
    return OrganizationCalls(client, RETRY, Attempts(), frozenset(given))


# --- the OU walk -------------------------------------------------------------------------------


async def test_accounts_under_an_ou_include_every_depth_below_it() -> None:
    """An OU's accounts include those of its children and grandchildren."""
    found = await accounts_under(["ou-ab12-workload"], FakeTree())
    assert found == {"222222222222", "333333333333", "444444444444", "555555555555", "666666666666"}


async def test_accounts_under_the_root_are_the_whole_organization() -> None:
    """Walking from the root reaches every account."""
    found = await accounts_under([ROOT], FakeTree())
    assert found == {a for _, accounts in TREE.values() for a in accounts}


async def test_an_ou_named_with_its_ancestor_is_listed_once() -> None:
    """Overlapping parents (an OU and one above it) cost one listing each."""
    tree = FakeTree()
    found = await accounts_under(["ou-ab12-payments", "ou-ab12-workload", "ou-ab12-payments"], tree)
    assert "555555555555" in found
    assert set(tree.asked.values()) == {1}


async def test_no_parents_means_no_accounts_and_no_calls() -> None:
    """An empty list of OUs finds nothing and asks nothing."""
    tree = FakeTree()
    assert await accounts_under([], tree) == frozenset()
    assert not tree.asked


# --- the scope rules ---------------------------------------------------------------------------


def account(account_id: str, state: str = "ACTIVE") -> AccountInfo:
    return AccountInfo(account_id, "organization", state=state)


def test_only_active_accounts_are_collected() -> None:
    """Without any scoping every ACTIVE account is collected and no other."""
    scope = OrganizationScope()
    assert scope.collects(account("111111111111"))
    for state in ("SUSPENDED", "CLOSED", "PENDING_CLOSURE", "PENDING_ACTIVATION", None):
        assert not scope.collects(AccountInfo("111111111111", "organization", state=state))


def test_exclusion_wins_over_inclusion() -> None:
    """An account both included and excluded is not collected."""
    scope = OrganizationScope(
        included=frozenset({"111111111111", "222222222222"}), excluded=frozenset({"222222222222"})
    )
    assert scope.collects(account("111111111111"))
    assert not scope.collects(account("222222222222"))
    assert not scope.collects(account("333333333333"))


async def test_organization_scope_combines_ous_and_excluded_accounts() -> None:
    """Included OUs, minus excluded OUs (nested inside) and excluded accounts, are collected."""
    settings = Settings(
        organization=True,
        organizational_units=("ou-ab12-workload", "ou-ab12-security"),
        exclude_organizational_units=("ou-ab12-prodprod",),
        exclude_accounts=("111111111111",),
    )
    scope = await organization_scope(settings, FakeTree())
    collected = {
        a for a in (a for _, ids in TREE.values() for a in ids) if scope.collects(account(a))
    }
    assert collected == {"222222222222", "666666666666"}


async def test_no_ou_options_walk_nothing() -> None:
    """Without OU options the tree is not walked at all."""
    tree = FakeTree()
    scope = await organization_scope(Settings(organization=True), tree)
    assert scope == OrganizationScope(included=None, excluded=frozenset())
    assert not tree.asked


def test_an_account_gets_its_own_regions_or_the_default_ones() -> None:
    """A collected account is listed in its override regions, else `regions`; others in none."""
    settings = Settings(
        regions=("us-east-1",), account_regions=(("111111111111", ("eu-west-1", "us-west-2")),)
    )
    assert with_regions(account("111111111111"), settings, True).regions == (
        "eu-west-1",
        "us-west-2",
    )
    assert with_regions(account("222222222222"), settings, True).regions == ("us-east-1",)
    skipped = with_regions(account("111111111111"), settings, False)
    assert skipped.regions == ()
    assert not skipped.collect


# --- Organizations calls -----------------------------------------------------------------------


async def test_every_page_of_accounts_is_read_with_the_maximum_page_size() -> None:
    """ListAccounts is followed to its last page, asking for 20 a page, sorted by id."""
    listed = [
        {"Id": f"{i:012d}", "Name": f"n{i}", "Email": f"e{i}", "State": "ACTIVE"}
        for i in (5, 3, 1, 4, 2)
    ]
    client = FakeOrganizations(listed)
    accounts = await organization_accounts(calls(client))
    assert [a.account_id for a in accounts] == [f"{i:012d}" for i in (1, 2, 3, 4, 5)]
    assert [params.get("NextToken") for _, params in client.requests] == [None, "2", "4"]
    assert {params["MaxResults"] for _, params in client.requests} == {20}
    assert accounts[0] == AccountInfo("000000000001", "organization", "n1", "e1", "ACTIVE")


async def test_retired_status_is_used_when_state_is_missing() -> None:
    """An account without `State` takes its state from the retired `Status` field."""
    client = FakeOrganizations([{"Id": "000000000001", "Status": "SUSPENDED"}])
    assert [a.state for a in await organization_accounts(calls(client))] == ["SUSPENDED"]


async def test_a_throttled_page_is_retried_with_its_own_token() -> None:
    """Throttling is retried under the run's policy without restarting from page one."""
    client = FakeOrganizations([{"Id": f"{i:012d}", "State": "ACTIVE"} for i in range(5)])
    counter = Attempts()
    organization = OrganizationCalls(client, RETRY, counter, frozenset())
    await organization.all_pages("list_accounts", "Accounts")
    client.requests.clear()
    client.failures = [client_error("TooManyRequestsException")]
    items = await organization.all_pages("list_accounts", "Accounts")
    assert len(items) == 5
    assert [params.get("NextToken") for _, params in client.requests] == [None, None, "2", "4"]
    assert counter.retries == 1


async def test_a_repeated_token_is_an_invalid_response() -> None:
    """A NextToken handed back twice stops the listing instead of looping forever."""

    class Stuck:
        async def list_accounts(self, **params: Any) -> Any:
            return {"Accounts": [{"Id": "000000000001"}], "NextToken": "same"}

    with pytest.raises(AwsError) as info:
        await calls(Stuck()).all_pages("list_accounts", "Accounts")
    assert info.value.kind is ErrorKind.INVALID_RESPONSE


async def test_children_are_read_to_the_last_page_and_remembered() -> None:
    """Child OUs and accounts are read over every page, and each parent only once per run."""
    client = FakeOrganizations([], page_size=1)
    organization = calls(client)
    assert await organization.children("ou-ab12-prodprod") == (
        ["ou-ab12-payments"],
        ["333333333333", "444444444444"],
    )
    await organization.children("ou-ab12-prodprod")
    assert Counter(op for op, _ in client.requests) == {
        "ListOrganizationalUnitsForParent": 1,
        "ListAccountsForParent": 2,
    }


async def test_a_named_ou_that_does_not_exist_is_a_configuration_error() -> None:
    """An OU the user named that Organizations does not know is a one-line ConfigError."""
    with pytest.raises(ConfigError, match="ou-ab12-notthere is not an OU or the root"):
        await calls(FakeOrganizations([]), "ou-ab12-notthere").children("ou-ab12-notthere")


async def test_an_ou_found_by_the_walk_that_vanishes_is_a_failed_call() -> None:
    """An OU that disappears during the walk fails the call rather than blaming the user."""
    with pytest.raises(AwsError) as info:
        await calls(FakeOrganizations([]), ROOT).children("ou-ab12-vanished")
    assert info.value.code == "ParentNotFoundException"
    assert "ou-ab12-vanished" in info.value.message
