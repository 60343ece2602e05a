"""Lookups Lambda: one step of the lookups workflow (the state machine's tasks all invoke it).

Thin on purpose: Powertools decorators plus one call into genesys_bridge. The event is
`{"step": "sync", "lookup": "<name>", "started_at": "<ISO time>"}` (land one lookup) or
`{"step": "report", "results": [...]}` (judge the sync). Importing this module reads no environment,
makes no network call and reads no secret.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from genesys_bridge import contracts
from genesys_bridge.lookups import runtime

logger = Logger(service=contracts.LOOKUPS_SERVICE)
metrics = Metrics(namespace=contracts.METRICS_NAMESPACE, service=contracts.LOOKUPS_SERVICE)
tracer = Tracer(service=contracts.LOOKUPS_SERVICE, patch_modules=["botocore", "requests"])
copy_config_to_registered_loggers(source_logger=logger, include={"genesys_bridge"})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runtime.run_step(event, context, metrics)
