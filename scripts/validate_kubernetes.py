#!/usr/bin/env python3
"""Validate the Kubernetes manifests offline, as `kubectl apply -k` would send them.

Every kustomization under the given folder is built with `kubectl kustomize` (which needs
no cluster) and each resource is checked strictly (unknown fields are errors) against the
schemas kubernetes-validate ships, for the oldest and the newest Kubernetes the manifests
support. A kind without a schema is an error, except the custom resources listed below,
which tests/unit/test_deploy.py checks instead.

    scripts/validate_kubernetes.py deploy/kubernetes
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import yaml

# Kubernetes releases the manifests must be valid for: the oldest with every field they use
# (podFailurePolicy is on by default from 1.26, CronJob timeZone GA in 1.27; EKS still
# supports 1.31) and the newest kubernetes-validate knows.
VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "PrometheusRule")}


def built(kustomization: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{kustomization}: kubectl kustomize failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def problems(resource: dict[str, object], version: str) -> str | None:
    kind = (resource.get("apiVersion"), resource.get("kind"))
    if kind in CUSTOM_KINDS:
        return None
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return f"{error.message} at {'/'.join(map(str, error.path))}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"no schema for {kind[1]} {kind[0]}"
    return None


def main(root: str) -> int:
    failed = 0
    folders = sorted(p.parent for p in Path(root).rglob("kustomization.yaml"))
    if not folders:
        raise SystemExit(f"no kustomization.yaml under {root}")
    for folder in folders:
        resources = built(folder)
        before = failed
        for resource in resources:
            metadata = resource.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            for version in VERSIONS:
                problem = problems(resource, version)
                if problem:
                    failed += 1
                    print(f"{folder}: {resource.get('kind')} {name} ({version}): {problem}")
        verdict = "valid" if failed == before else "checked, with the errors above,"
        print(
            f"{folder}: {len(resources)} resources {verdict} for Kubernetes {', '.join(VERSIONS)}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deploy/kubernetes"))
