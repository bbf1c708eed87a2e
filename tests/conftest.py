"""Suite-wide settings: hypothesis runs the same examples on every machine (CI included)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "kinlink",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("kinlink")
