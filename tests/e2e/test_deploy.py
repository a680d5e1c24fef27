"""The deployment kit against the collector itself: the IAM templates allow exactly the calls
a run makes, and the example overlay builds into the manifests the Deploying page deploys."""

from __future__ import annotations

import shutil
import subprocess
from random import Random
from typing import Any

import pytest
import yaml

from collector.simulator import (
    CONNECTORS,
    Account,
    Organization,
    OrganizationalUnit,
    Simulator,
    generate_organization,
    make_connector,
)

from ..support import (
    KUBERNETES,
    ROLE,
    TEMPLATES,
    Cli,
    documented_policy_actions,
    permission_actions,
)

REGIONS = ("us-east-1", "af-south-1")
ORGANIZATION_ROLE = "AppFlowInventoryOrganizationReader"
# Calls no IAM policy can allow or deny (AWS: "No permissions are required").
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


@pytest.fixture
def org() -> Organization:
    """A few accounts, one in a nested OU, none of which enabled the opt-in region."""
    organization = generate_organization(
        seed=5,
        accounts=6,
        empty_fraction=0.3,
        profiles_per_scope=(1, 3),
        regions=REGIONS,
        opt_in_fraction=0.0,
    )
    ou = OrganizationalUnit(
        f"ou-{organization.root_id[2:]}-deploykit", "Apps", organization.root_id
    )
    organization.organizational_units[ou.id] = ou
    member = next(
        a for a in organization.account_list() if a.id != organization.management_account_id
    )
    organization.add_account(Account(member.id, member.name, member.email, ou.id, member.state))
    # A custom connector registered in one scope, so that the run describes one.
    organization.put(
        CONNECTORS,
        member.id,
        "us-east-1",
        make_connector("acme", member.id, "us-east-1", Random(1)),
    )
    return organization


def called_actions(sim: Simulator) -> set[str]:
    """The IAM actions of the calls the simulator answered (`service:Operation`)."""
    return {f"{service}:{operation}" for service, operation in sim.stats.operations}


@pytest.mark.slow
def test_templates_allow_exactly_the_calls_a_run_makes(
    org: Organization, sim: Simulator, cli: Cli, sqlite_url: str
) -> None:
    """Runs that make every call the collector can make (organization and OU discovery, a
    role per account, the opt-in region look-up, the listings, the caller's identity, and
    the separate Organizations role) call exactly the actions the templates and the docs
    allow: a new API call without a policy change fails here."""
    root = org.root_id
    first = cli.collect(sqlite_url, sim, REGIONS, "--organizational-units", root)
    assert first.code == 0, first.err
    # The caller's own account, in only a region it has not enabled: nothing proves its
    # credentials, so the collector asks EC2 whether the region is enabled.
    alone = cli.run(["run", "--database-url", sqlite_url, "--regions", "af-south-1"], sim.env())
    assert alone.code == 0, alone.err
    org.organization_role_name = ORGANIZATION_ROLE
    arn = f"arn:aws:iam::{org.management_account_id}:role/{ORGANIZATION_ROLE}"
    separate = cli.collect(sqlite_url, sim, REGIONS, "--organization-role-arn", arn)
    assert separate.code == 0, separate.err
    called = called_actions(sim)
    assert "ec2:DescribeRegions" in called
    assert "organizations:ListOrganizationalUnitsForParent" in called
    templates = set().union(*(permission_actions(name) for name in TEMPLATES))
    assert called - NEEDS_NO_PERMISSION == templates
    assert templates == documented_policy_actions()
    assert sim.stats.count("sts", "AssumeRole") > len(org.account_list())


@pytest.fixture(scope="module")
def overlay() -> list[dict[str, Any]]:
    """deploy/kubernetes/overlays/example as `kubectl apply -k` would send it."""
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is needed to build the kustomize overlay")
    built = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES / "overlays" / "example")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["kind"] == kind]
    return found


def test_overlay_builds_one_namespace_with_every_piece(overlay: list[dict[str, Any]]) -> None:
    """The example overlay puts the service accounts, settings, migration Job, CronJob,
    network policy and alerts in its own namespace, running the image it names."""
    kinds = sorted(r["kind"] for r in overlay)
    assert kinds == [
        "ConfigMap",
        "CronJob",
        "Job",
        "Namespace",
        "NetworkPolicy",
        "PrometheusRule",
        "ServiceAccount",
        "ServiceAccount",
    ]
    namespace = by_kind(overlay, "Namespace")["metadata"]["name"]
    for resource in overlay:
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == namespace, resource["kind"]
    for kind in ("CronJob", "Job"):
        spec = by_kind(overlay, kind)["spec"]
        pod = spec["jobTemplate"]["spec"]["template"] if kind == "CronJob" else spec["template"]
        (container,) = pod["spec"]["containers"]
        assert container["image"] == "registry.example.com/appflow-inventory:0.1.0"


def test_overlay_settings_reach_the_pods(overlay: list[dict[str, Any]]) -> None:
    """The pods read the generated ConfigMap by its hashed name, with the overlay's
    values merged over the base's."""
    config = by_kind(overlay, "ConfigMap")
    for kind in ("CronJob", "Job"):
        spec = by_kind(overlay, kind)["spec"]
        pod = spec["jobTemplate"]["spec"]["template"] if kind == "CronJob" else spec["template"]
        (container,) = pod["spec"]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    data = config["data"]
    assert data["COLLECTOR_ORGANIZATION"] == "true"
    assert data["COLLECTOR_ROLE_NAME"] == ROLE
    assert data["COLLECTOR_EXTERNAL_ID"] == "appflow-inventory"


def test_overlay_shard_count_is_consistent(overlay: list[dict[str, Any]]) -> None:
    """After the overlay's patches, SHARD_COUNT, completions and parallelism still agree."""
    job = by_kind(overlay, "CronJob")["spec"]["jobTemplate"]["spec"]
    (container,) = job["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["SHARD_COUNT"]) == job["completions"] == job["parallelism"]


def test_overlay_mounts_the_database_url_0400_and_fences_the_pods(
    overlay: list[dict[str, Any]],
) -> None:
    """As kubectl sends them, the pods mount the database Secret with mode 0400 (256), the
    migration Job runs as a service account without the IRSA role, and the network policy
    admits the database address the overlay names and covers both pods."""
    accounts = {r["metadata"]["name"]: r for r in overlay if r["kind"] == "ServiceAccount"}
    assert "eks.amazonaws.com/role-arn" in accounts["appflow-inventory"]["metadata"]["annotations"]
    assert "annotations" not in accounts["appflow-inventory-migrate"]["metadata"]
    policy = by_kind(overlay, "NetworkPolicy")["spec"]
    (database,) = [rule for rule in policy["egress"] if rule["ports"][0]["port"] == 5432]
    assert database["to"] == [{"ipBlock": {"cidr": "10.20.30.40/32"}}]
    selected = policy["podSelector"]["matchLabels"].items()
    for kind, account in (("CronJob", "appflow-inventory"), ("Job", "appflow-inventory-migrate")):
        spec = by_kind(overlay, kind)["spec"]
        pod = spec["jobTemplate"]["spec"]["template"] if kind == "CronJob" else spec["template"]
        assert pod["spec"]["serviceAccountName"] == account
        assert selected <= pod["metadata"]["labels"].items(), kind
        (volume,) = pod["spec"]["volumes"]
        assert volume["secret"] == {"secretName": "appflow-inventory-db", "defaultMode": 256}
