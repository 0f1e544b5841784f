"""The gateway's audit, shared between requests like the readiness dashboard.

An audit reads every product and asset (17 commands, ~0.4 s at 500 products): a dashboard
polling it, or a client asking for it in a loop, would cost one such scan each time. It shares
the dashboard's cache (:attr:`Services.dashboards`, ``CATALOG_DASHBOARD_TTL_S``): callers within
the TTL get one computation, and callers arriving while it runs wait for it. The key is all
that varies between calls; locales, fallbacks and channel assets are the process's own.
"""

from __future__ import annotations

from typing import Any

from resolvers.audit.report import AuditReport, audit_fallbacks, configured_asset_ids, run_audit
from resolvers.services import Services
from resolvers.shared_result import Computed

# The dashboards cache holds dictionaries (readiness summaries); the report rides in one under
# this key, so that both share one cache, one TTL and one setting.
_REPORT = "report"


async def shared_audit(services: Services, limit: int) -> Computed[AuditReport]:
    """The audit with ``limit`` examples per section, computed at most once per TTL."""

    async def compute() -> dict[str, Any]:
        report = await run_audit(
            services.catalog,
            locales=services.locales.locales,
            limit=limit,
            fallbacks=audit_fallbacks(services.locales),
            linked=configured_asset_ids(services.channels),
        )
        return {_REPORT: report}

    computed = await services.dashboards.get(("audit", limit), compute)
    report: AuditReport = computed.value[_REPORT]
    return Computed(report, computed.at)
