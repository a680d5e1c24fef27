"""The deployment kit as files: the Dockerfile, the IAM templates and the Kubernetes
manifests say what the docs and the collector say. (hadolint, cfn-lint and
kubernetes-validate check their syntax in `make test`; the e2e tests build and run them.)"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from typing import Any

from collector._cli.metrics import run_registry
from collector._config import OPTIONS
from collector._model.resources import PROFILES
from collector._model.run import RunResult, RunStatus
from collector._model.scopes import Listing, Scope, ScopeOutcome, ScopeStatus

from ..support import (
    KUBERNETES,
    ROOT,
    TEMPLATES,
    documented_policy_actions,
    kubernetes_documents,
    permission_actions,
    roles,
    template,
    trust_statements,
)

MEMBER_ACTIONS = {
    "appflow:DescribeConnectorProfiles",
    "appflow:ListFlows",
    "appflow:DescribeFlow",
    "appflow:ListConnectors",
    "appflow:DescribeConnector",
    "ec2:DescribeRegions",
}
ORGANIZATION_ACTIONS = {
    "organizations:ListAccounts",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListAccountsForParent",
}


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), by stage."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    stages: list[list[str]] = [[]]
    for line in lines:
        if (
            line.startswith("FROM ")
            and stages[-1]
            and any(s.startswith("FROM ") for s in stages[-1])
        ):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_image_is_built_in_two_stages_and_runs_collector_unprivileged() -> None:
    """The final stage starts from a slim Python, copies only the built virtualenv, labels
    version and source, runs as a numeric non-root user, with `collector` as entrypoint."""
    build, final = dockerfile_stages()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in build[0]
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    copies = [line for line in final if line.startswith("COPY")]
    assert copies == ["COPY --from=build /opt/collector /opt/collector"]
    runs = " ".join(line for line in final if line.startswith("RUN"))
    for tool in ("pip", "apt-get", "gcc", "wheel", "setuptools"):
        assert tool not in runs, f"the final stage runs {tool}"
    label = next(line for line in final if line.startswith("LABEL"))
    assert 'org.opencontainers.image.version="${VERSION}"' in label
    assert 'org.opencontainers.image.source="${SOURCE}"' in label
    (user,) = [line for line in final if line.startswith("USER ")]
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit(), user
    assert int(uid) != 0, user
    assert final[-2:] == ['ENTRYPOINT ["collector"]', 'CMD ["--help"]']


def test_the_image_installs_the_runtime_lock_into_a_venv_without_pip() -> None:
    """The build stage installs only requirements/runtime.txt, hashes required, into a
    virtualenv made without pip, then the wheel without dependencies."""
    build, _ = dockerfile_stages()
    commands = [c.strip() for line in build for c in line.split("&&")]
    assert "python -m venv --without-pip /opt/collector" in " ".join(commands)
    into_venv = [c for c in commands if "--python /opt/collector/bin/python install" in c]
    assert len(into_venv) == 2
    assert "--require-hashes -r requirements/runtime.txt" in into_venv[0]
    assert "--no-deps /tmp/dist/*.whl" in into_venv[1]


def test_the_build_context_holds_only_the_sources() -> None:
    """.dockerignore leaves out everything (virtualenvs, databases, .git) but what the
    Dockerfile copies."""
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    copied = {
        part
        for stage in dockerfile_stages()
        for line in stage
        if line.startswith("COPY ") and "--from" not in line
        for part in shlex.split(line)[1:-1]
    }
    assert {p.rstrip("/") for p in copied} <= {
        a.rstrip("/").removesuffix("/*.txt") for a in allowed
    }


def test_template_permissions_are_the_documented_policies() -> None:
    """Together the templates allow exactly the actions the documented policies list: the
    member role reads AppFlow (profiles, flows, custom connectors) and EC2 regions, the
    collector role reads AppFlow in its own account, assumes and lists."""
    assert permission_actions("member-role.yaml") == MEMBER_ACTIONS
    own_account = {action for action in MEMBER_ACTIONS if action.startswith("appflow:")}
    assert (
        permission_actions("collector-role.yaml")
        == {"sts:AssumeRole"} | ORGANIZATION_ACTIONS | own_account
    )
    assert permission_actions("organization-role.yaml") == ORGANIZATION_ACTIONS
    union = set().union(*(permission_actions(name) for name in TEMPLATES))
    assert union == documented_policy_actions()


def test_member_role_is_parameterized_for_a_stackset() -> None:
    """The member role takes the collector's principal, an optional external id and its
    name and path as parameters; sessions last the hour the collector asks for."""
    parameters = template("member-role.yaml")["Parameters"]
    assert {"CollectorRoleArn", "ExternalId", "RoleName", "RolePath"} <= parameters.keys()
    assert parameters["RoleName"]["Default"] == "AppFlowInventoryReader"
    assert parameters["ExternalId"]["Default"] == ""
    (role,) = roles("member-role.yaml").values()
    assert role["RoleName"] == {"Ref": "RoleName"}
    assert role["Path"] == {"Ref": "RolePath"}
    assert role["MaxSessionDuration"] >= 3600
    (trust,) = trust_statements("member-role.yaml")
    assert trust["Principal"] == {"AWS": {"Ref": "CollectorRoleArn"}}
    condition = trust["Condition"]["StringEquals"]["Fn::If"]
    assert condition[0] == "HasExternalId"
    assert condition[1] == {
        "sts:ExternalId": {"Ref": "ExternalId"},
        "aws:PrincipalOrgID": "${aws:ResourceOrgID}",
    }
    assert condition[2] == {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}
    text = (ROOT / "deploy" / "cloudformation" / "member-role.yaml").read_text()
    assert re.search(r"# Optional:[^\n]*\n(\s*#[^\n]*\n)*\s+- Sid: TellDisabledOptInRegions", text)


def test_collector_role_trusts_irsa_pod_identity_or_a_principal() -> None:
    """The collector role's trust is one of: the service account through the cluster's
    OIDC provider (sub and aud pinned), EKS Pod Identity, or a named principal."""
    trusts = trust_statements("collector-role.yaml")
    by_action = {
        frozenset([s["Action"]] if isinstance(s["Action"], str) else s["Action"]): s for s in trusts
    }
    irsa = by_action[frozenset({"sts:AssumeRoleWithWebIdentity"})]
    assert irsa["Principal"] == {"Federated": "${EksOidcProviderArn}"}
    assert irsa["Condition"]["StringEquals"] == {
        "${Issuer}:sub": "system:serviceaccount:${ServiceAccountNamespace}:${ServiceAccountName}",
        "${Issuer}:aud": "sts.amazonaws.com",
    }
    pod_identity = by_action[frozenset({"sts:AssumeRole", "sts:TagSession"})]
    assert pod_identity["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert pod_identity["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": {"Ref": "EksClusterArn"},
            "aws:RequestTag/kubernetes-namespace": {"Ref": "ServiceAccountNamespace"},
            "aws:RequestTag/kubernetes-service-account": {"Ref": "ServiceAccountName"},
        }
    }
    principal = by_action[frozenset({"sts:AssumeRole"})]
    assert principal["Principal"] == {"AWS": {"Ref": "TrustedPrincipalArn"}}
    assert principal["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}
    }
    rules = template("collector-role.yaml")["Rules"]
    assert rules["PodIdentityNeedsTheCluster"]["RuleCondition"] == {
        "Fn::Equals": [{"Ref": "TrustMode"}, "EksPodIdentity"]
    }
    modes = template("collector-role.yaml")["Parameters"]["TrustMode"]["AllowedValues"]
    assert modes == ["EksIrsa", "EksPodIdentity", "Principal"]


def test_collector_role_may_assume_only_the_member_role() -> None:
    """The collector role assumes the member role by its name and path in an account of its
    own organization only, and the organization role only when one is given."""
    (role,) = roles("collector-role.yaml").values()
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::*:role${MemberRolePath}${MemberRoleName}"
    }
    inside_the_organization = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
    assert statements[0]["Condition"] == inside_the_organization
    _, itself, separate = statements[1]["Fn::If"]
    assert set(itself["Action"]) == ORGANIZATION_ACTIONS
    assert separate["Action"] == "sts:AssumeRole"
    assert separate["Resource"] == {"Ref": "OrganizationRoleArn"}
    assert separate["Condition"] == inside_the_organization


def _resolved(value: Any) -> list[Any]:
    """Every plain form `value` can take, each `Fn::If` in it resolved both ways."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            return [form for arm in value["Fn::If"][1:] for form in _resolved(arm)]
        forms: list[dict[str, Any]] = [{}]
        for key, item in value.items():
            forms = [{**form, key: choice} for form in forms for choice in _resolved(item)]
        return forms
    if isinstance(value, list):
        lists: list[list[Any]] = [[]]
        for item in value:
            lists = [[*done, choice] for done in lists for choice in _resolved(item)]
        return lists
    return [value]


# What a trust statement must pin for each kind of principal: the keys of its condition.
PINNED_BY_PRINCIPAL = {
    "Service": {
        "aws:RequestTag/eks-cluster-arn",
        "aws:RequestTag/kubernetes-namespace",
        "aws:RequestTag/kubernetes-service-account",
    },
    "Federated": {"${Issuer}:sub", "${Issuer}:aud"},
    "AWS": {"aws:PrincipalOrgID"},
}


def unpinned(statement: dict[str, Any]) -> list[str]:
    """What a trust statement leaves open, in any of its branches: a principal without a
    condition, or with one that does not pin who it is (see `PINNED_BY_PRINCIPAL`)."""
    problems = []
    for form in _resolved(statement):
        (kind,) = form["Principal"]
        condition = form.get("Condition") or {}
        if not condition:
            problems.append(f"{kind} principal without a condition")
            continue
        pinned = set().union(*(set(keys) for keys in condition.values()))
        if missing := PINNED_BY_PRINCIPAL[kind] - pinned:
            problems.append(f"{kind} principal not pinned by {sorted(missing)}")
        elif kind == "AWS" and (
            condition.get("StringEquals", {}).get("aws:PrincipalOrgID") != "${aws:ResourceOrgID}"
        ):
            problems.append("AWS principal not pinned to the role's own organization")
    return problems


def test_every_trust_policy_pins_who_may_assume_the_role() -> None:
    """No trust statement of any template, in any of its branches, lets a principal in
    without a condition: a service (EKS Pod Identity) is pinned to one cluster, namespace
    and service account, a web identity to one subject and audience, an AWS principal to
    the role's own organization."""
    statements = [(name, s) for name in TEMPLATES for s in trust_statements(name)]
    # IRSA, Pod Identity and a named principal; the member role; the organization role.
    assert len(statements) == 5
    for name, statement in statements:
        assert unpinned(statement) == [], (name, statement)


def test_an_unpinned_trust_statement_is_caught() -> None:
    """The check fails on a principal without a condition (as Pod Identity's trust once
    was), on a condition that pins nothing about who assumes, and in either branch of a
    condition that depends on a parameter."""
    pod_identity = {"Service": "pods.eks.amazonaws.com"}
    assert unpinned({"Principal": pod_identity, "Action": "sts:AssumeRole"}) == [
        "Service principal without a condition"
    ]
    assert unpinned(
        {
            "Principal": pod_identity,
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        }
    )
    assert (
        unpinned(
            {
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/collector"},
                "Condition": {
                    "Fn::If": [
                        "HasExternalId",
                        {"StringEquals": {"sts:ExternalId": "x"}},
                        {"Ref": "AWS::NoValue"},
                    ]
                },
            }
        )
        == ["AWS principal not pinned by ['aws:PrincipalOrgID']"] * 2
    )
    assert unpinned(
        {
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/collector"},
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-someoneelse"}},
        }
    ) == ["AWS principal not pinned to the role's own organization"]


def base(kind: str) -> dict[str, Any]:
    """The one resource of `kind` in the kustomize base."""
    found = [
        doc
        for path in sorted((KUBERNETES / "base").glob("*.yaml"))
        for doc in kubernetes_documents(path)
        if doc.get("kind") == kind
    ]
    assert len(found) == 1, kind
    return found[0]


def exported_metric_names() -> set[str]:
    """Every metric name the collector exports, from a registry with every gauge set."""
    at = datetime.now(UTC)
    result = RunResult("run", at, status=RunStatus.PARTIAL, finished_at=at, last_success=at)
    result.tally(
        ScopeOutcome(
            Scope("123456789012", "us-east-1"),
            ScopeStatus.FAILED,
            at,
            at,
            {PROFILES: Listing(ScopeStatus.FAILED)},
            error_code="throttled",
        ),
        {},
    )
    registry = run_registry(result, {"shard": "0/4"})
    return {metric.name for metric in registry.collect()}


def test_prometheus_rule_alerts_on_metrics_the_collector_exports() -> None:
    """The PrometheusRule is well formed (the Operator's v1 shape) and every metric its
    alerts use is one the collector really exports, with labels it really sets."""
    rule = base("PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    (group,) = rule["spec"]["groups"]
    exported = exported_metric_names()
    alerts = {r["alert"]: r for r in group["rules"]}
    assert {"AppFlowInventoryStale", "AppFlowInventoryRunFailed"} <= alerts.keys()
    for name, alert in alerts.items():
        assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}, name
        assert alert["labels"]["severity"] in ("info", "warning", "critical"), name
        assert alert["annotations"]["summary"], name
        used = set(re.findall(r"appflow_inventory_\w+", alert["expr"]))
        assert used, name
        assert used <= exported, (name, used - exported)
        for label in re.findall(r"\$labels\.(\w+)", str(alert["annotations"])):
            assert label in ("shard", "status", "job", "instance"), (name, label)
    assert (
        alerts["AppFlowInventoryStale"]["expr"]
        == "time() - appflow_inventory_last_success_timestamp_seconds > 2 * 86400"
    )


def test_cronjob_runs_indexed_shards_with_a_deadline_and_json_logs() -> None:
    """The CronJob runs an Indexed Job of N shards, never two passes at once, with the
    shard from the completion index, a deadline below Kubernetes' own, and JSON logs."""
    cronjob = base("CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    (container,) = job["template"]["spec"]["containers"]
    args = container["args"]
    assert args[0] == "run"
    assert args[args.index("--shard") + 1] == "$(JOB_COMPLETION_INDEX)/$(SHARD_COUNT)"
    assert args[args.index("--log-format") + 1] == "json"
    deadline = int(args[args.index("--deadline") + 1])
    assert deadline < job["activeDeadlineSeconds"]
    env = {e["name"]: e for e in container["env"]}
    assert int(env["SHARD_COUNT"]["value"]) == job["completions"] == job["parallelism"]
    assert job["template"]["spec"]["serviceAccountName"] == "appflow-inventory"


def _database_url_from_a_file(pod: dict[str, Any]) -> None:
    """The pod reads the database URL from the Secret mounted as a file of mode 0400 (its
    group the pod's, so the unprivileged user can read it), never from the environment."""
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "COLLECTOR_DATABASE_URL" not in env
    path = env["COLLECTOR_DATABASE_URL_FILE"]["value"]
    (volume,) = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"] == {"secretName": "appflow-inventory-db", "defaultMode": 0o400}
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    assert path == mount["mountPath"] + "/url"
    security = pod["securityContext"]
    assert security["fsGroup"] == security["runAsGroup"] == 10001


def test_pods_read_the_database_url_from_a_mounted_secret_file() -> None:
    """The CronJob's and the migration Job's pods get the database URL as a 0400 file
    through COLLECTOR_DATABASE_URL_FILE; no manifest passes a Secret as an environment
    variable."""
    _database_url_from_a_file(base("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    _database_url_from_a_file(base("Job")["spec"]["template"]["spec"])
    for path in sorted((KUBERNETES / "base").glob("*.yaml")):
        assert "secretKeyRef" not in path.read_text(), path.name


def test_network_policy_allows_dns_the_database_the_pushgateway_and_https_only() -> None:
    """The collector's pods accept no connection and may open only DNS (to the cluster's
    resolver), PostgreSQL, the Pushgateway of the settings, and HTTPS."""
    policy = base("NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == []
    selected = spec["podSelector"]["matchLabels"].items()
    kustomization = kubernetes_documents(KUBERNETES / "base" / "kustomization.yaml")[0]
    cronjob = base("CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    for pod in (cronjob, base("Job")["spec"]["template"]):
        # kustomize's `labels` reach no pod template: the pods carry the label themselves.
        assert selected <= pod["metadata"]["labels"].items()
    allowed = {
        (port["protocol"], port["port"]) for rule in spec["egress"] for port in rule["ports"]
    }
    assert allowed == {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 9091), ("TCP", 443)}
    for rule in spec["egress"]:
        assert rule["to"], rule  # an empty `to` would allow every destination
        ports = {port["port"] for port in rule["ports"]}
        if ports == {53}:
            assert rule["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
        if ports == {9091}:
            literals = dict(
                literal.split("=", 1)
                for literal in kustomization["configMapGenerator"][0]["literals"]
            )
            host = literals["COLLECTOR_PUSHGATEWAY_URL"].split("//")[1].split(".")
            namespace = rule["to"][0]["namespaceSelector"]["matchLabels"]
            assert namespace == {"kubernetes.io/metadata.name": host[1]}
            assert rule["to"][0]["podSelector"]["matchLabels"] == {
                "app.kubernetes.io/name": host[0]
            }
        if ports == {5432}:
            assert rule["to"][0]["ipBlock"]["cidr"].endswith("/32")


def test_the_base_image_is_pinned_by_digest_and_says_how_to_move_it() -> None:
    """Both stages start from the Python image by digest (a tag can move), and the
    Dockerfile says how to find today's digest."""
    build, final = dockerfile_stages()
    (argument,) = [line for line in build if line.startswith("ARG PYTHON_IMAGE=")]
    assert re.fullmatch(
        r"ARG PYTHON_IMAGE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", argument
    ), argument
    assert build[1] == "FROM ${PYTHON_IMAGE} AS build"
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    text = (ROOT / "Dockerfile").read_text()
    assert "docker buildx imagetools inspect python:3.11-slim-bookworm" in text
    assert "crane digest python:3.11-slim-bookworm" in text


def _collector_peaks() -> list[float]:
    """The "peak RSS MB" column of every collector row of the Performance page's tables."""
    section = (ROOT / "docs" / "performance.md").read_text()
    peaks: list[float] = []
    column: int | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if "peak RSS MB" in cells:
            column = cells.index("peak RSS MB")
        elif column is not None and not cells[0].startswith(
            ("baseline", "floor", "---", "collector /")
        ):
            peaks.append(float(cells[column].split()[0]))
    assert len(peaks) >= 10, peaks
    return peaks


def test_cronjob_requests_memory_for_the_measured_peak() -> None:
    """The collector's memory request covers every peak RSS of the collector the Performance
    page reports, and its limit leaves twice that."""
    peak = max(_collector_peaks())
    (container,) = base("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    resources = container["resources"]

    def mebibytes(text: str) -> float:
        assert text.endswith("Mi"), text
        return float(text[:-2]) * 1.048576  # MB, as the benchmark reports

    assert mebibytes(resources["requests"]["memory"]) >= peak
    assert mebibytes(resources["limits"]["memory"]) >= 2 * peak


def test_settings_in_the_manifests_are_real_options() -> None:
    """Every COLLECTOR_ variable the manifests set names an option of the collector (a typo
    would be silently ignored by the pod)."""
    kustomization = kubernetes_documents(KUBERNETES / "base" / "kustomization.yaml")[0]
    literals = kustomization["configMapGenerator"][0]["literals"]
    overlay = kubernetes_documents(KUBERNETES / "overlays" / "example" / "kustomization.yaml")[0]
    literals += overlay["configMapGenerator"][0]["literals"]
    names = {literal.split("=", 1)[0] for literal in literals}
    names |= {
        e["name"]
        for e in base("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][
            0
        ]["env"]
    }
    for name in names:
        if name.startswith("COLLECTOR_"):
            assert name.removeprefix("COLLECTOR_").lower() in OPTIONS, name


def test_migration_job_upgrades_the_database_without_an_iam_role() -> None:
    """The one-off Job runs `collector db upgrade` with the CronJob's image and database
    Secret, as a service account of its own that has no IAM role and no API token."""
    job = base("Job")
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert container["image"] == "appflow-inventory"
    assert spec["serviceAccountName"] == "appflow-inventory-migrate"
    assert spec["automountServiceAccountToken"] is False
    account = service_accounts()["appflow-inventory-migrate"]
    assert "annotations" not in account["metadata"]
    assert account["automountServiceAccountToken"] is False
    cronjob = base("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["volumes"] == cronjob["volumes"]


def service_accounts() -> dict[str, dict[str, Any]]:
    """The service accounts of the kustomize base, by name."""
    return {
        doc["metadata"]["name"]: doc
        for doc in kubernetes_documents(KUBERNETES / "base" / "serviceaccount.yaml")
        if doc["kind"] == "ServiceAccount"
    }


def test_service_account_names_the_collector_role_for_irsa() -> None:
    """The service account carries the IRSA annotation with the collector role's default
    name from collector-role.yaml."""
    account = service_accounts()["appflow-inventory"]
    arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    default = template("collector-role.yaml")["Parameters"]["RoleName"]["Default"]
    assert re.fullmatch(rf"arn:aws:iam::\d{{12}}:role/{default}", arn)
