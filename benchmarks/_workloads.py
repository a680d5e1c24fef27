"""The simulated organizations the benchmark runs against."""

from __future__ import annotations

from dataclasses import dataclass

REGIONS_PER_ACCOUNT = 16


@dataclass(frozen=True, slots=True)
class Workload:
    """One simulator configuration, with the time allowed and the RSS target."""

    name: str
    accounts: int
    empty_fraction: float
    max_profiles: int
    child_timeout: float
    """Seconds one benchmarked process may run before it is killed."""
    rss_target_mb: float
    latency_ms: float = 80.0
    jitter: float = 0.2
    seed: int = 1

    @property
    def scopes(self) -> int:
        """(account, region) pairs listed."""
        return self.accounts * REGIONS_PER_ACCOUNT

    def simulator_args(self) -> list[str]:
        """Command-line options of the simulator."""
        return [
            f"--accounts={self.accounts}",
            f"--seed={self.seed}",
            f"--latency-ms={self.latency_ms:g}",
            f"--jitter={self.jitter:g}",
            f"--empty-fraction={self.empty_fraction:g}",
            f"--max-profiles={self.max_profiles}",
        ]


WORKLOADS: dict[str, Workload] = {
    # 3,200 scopes, 85% empty: the cost is per scope, not per profile.
    "fleet": Workload("fleet", 200, 0.85, 120, child_timeout=300.0, rss_target_mb=150.0),
    "large": Workload("large", 1000, 0.85, 120, child_timeout=1200.0, rss_target_mb=150.0),
    # Twice `large`: memory must stay flat as the fleet grows.
    "xlarge": Workload("xlarge", 2000, 0.85, 120, child_timeout=2400.0, rss_target_mb=150.0),
    # 4,000 scopes, 80% non-empty: about 100,000 profiles (99,905 with seed 1).
    "profiles100k": Workload(
        "profiles100k", 250, 0.2, 120, child_timeout=1200.0, rss_target_mb=300.0
    ),
    # Seconds, not minutes: proves the harness works end to end (`make test` runs it).
    "smoke": Workload(
        "smoke", 4, 0.5, 30, child_timeout=120.0, rss_target_mb=150.0, latency_ms=5.0
    ),
}
