"""The App's database: the only code that touches it.

SQLite by default, PostgreSQL by changing ``DATABASE_URL``. Every write function commits its own
transaction: a delivery recorded, claimed or finished is durable when the function returns, which
is what lets the App answer a webhook at once and still lose nothing when the process dies.

Callers use the package: ``from bot import store``; ``store.open_findings(session, ...)``.
"""

from __future__ import annotations

from bot.store.deliveries import (
    abandoned_deliveries,
    claim_delivery,
    claim_next_delivery,
    delivery_counts,
    finish_delivery,
    heartbeat,
    overdue_deliveries,
    record_delivery,
    requeue_abandoned,
)
from bot.store.engine import (
    database_answers,
    database_url,
    make_engine,
    make_session_factory,
)
from bot.store.findings import StoredFinding, open_findings, record_analysis
from bot.store.installations import (
    InstallationInfo,
    RepositoryInfo,
    active_installations,
    active_repositories,
    installation_of,
    remove_installation,
    repository_row,
    set_installation_repositories,
    upsert_installation,
)
from bot.store.models import (
    DELIVERY_STATUSES,
    FINDING_STATUSES,
    SQLITE_BUSY_TIMEOUT_MS,
    Analysis,
    Base,
    CommentRecord,
    Delivery,
    FindingRecord,
    Installation,
    PullRequest,
    Repository,
    SummaryPost,
    SummaryProblem,
    as_utc,
    utcnow,
)
from bot.store.schema import SchemaError, create_schema, current_revision, head_revision
from bot.store.schema import check as check_schema
from bot.store.schema import prepare as prepare_schema
from bot.store.schema import upgrade as upgrade_schema
from bot.store.summaries import (
    FindingRow,
    SummaryClaim,
    SummaryProblemInfo,
    account_repositories,
    claim_summary,
    clear_summary_problem,
    findings_created_before,
    finish_summary,
    record_summary_problem,
    release_summary,
    renew_summary,
    reviewed_pull_requests,
    summary_post,
    summary_posts,
    summary_problem,
)

__all__ = [
    "DELIVERY_STATUSES",
    "FINDING_STATUSES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Analysis",
    "Base",
    "CommentRecord",
    "Delivery",
    "FindingRecord",
    "FindingRow",
    "Installation",
    "InstallationInfo",
    "PullRequest",
    "Repository",
    "RepositoryInfo",
    "SchemaError",
    "StoredFinding",
    "SummaryClaim",
    "SummaryPost",
    "SummaryProblem",
    "SummaryProblemInfo",
    "abandoned_deliveries",
    "account_repositories",
    "active_installations",
    "active_repositories",
    "as_utc",
    "check_schema",
    "claim_delivery",
    "claim_next_delivery",
    "claim_summary",
    "clear_summary_problem",
    "create_schema",
    "current_revision",
    "database_answers",
    "database_url",
    "delivery_counts",
    "findings_created_before",
    "finish_delivery",
    "finish_summary",
    "head_revision",
    "heartbeat",
    "installation_of",
    "make_engine",
    "make_session_factory",
    "open_findings",
    "overdue_deliveries",
    "prepare_schema",
    "record_analysis",
    "record_delivery",
    "record_summary_problem",
    "release_summary",
    "remove_installation",
    "renew_summary",
    "repository_row",
    "requeue_abandoned",
    "reviewed_pull_requests",
    "set_installation_repositories",
    "summary_post",
    "summary_posts",
    "summary_problem",
    "upgrade_schema",
    "upsert_installation",
    "utcnow",
]
