"""Catalog views custom resource: CloudFormation's Create/Update/Delete -> the views in Athena.

Thin on purpose: the Provider framework of the CDK calls this function and answers CloudFormation
(an exception fails the deploy with its message); genesys_bridge.catalog_views does the work.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from genesys_bridge import catalog_views, contracts

logger = Logger(service=contracts.CATALOG_VIEWS_SERVICE)
# Leave this much of the invocation to report a statement still running as a failure.
_MARGIN_SECONDS = 10.0


# Not log_event: the event carries CloudFormation's pre-signed response URL.
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = catalog_views.parse_request(event)
    logger.info(
        "catalog views request",
        extra={
            "request_type": request.request_type,
            "database": request.database,
            "views": len(request.views),
        },
    )
    statements = catalog_views.AthenaStatements(
        boto3.client("athena"),
        database=request.database,
        workgroup=request.workgroup,
        deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000 - _MARGIN_SECONDS,
    )
    return catalog_views.apply(request, statements)
