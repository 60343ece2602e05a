"""Ingest Lambda: one Genesys conversation event from EventBridge -> one buffer write (or quarantine).

Thin on purpose: Powertools decorators plus one call into genesys_bridge. Importing this module reads no
environment, makes no network call and does not load the Genesys client (requests, tenacity).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from genesys_bridge import contracts, runtime

logger = Logger(service=contracts.INGEST_SERVICE)
metrics = Metrics(namespace=contracts.METRICS_NAMESPACE, service=contracts.INGEST_SERVICE)
# Patch only what this function uses (it calls DynamoDB and SQS through botocore, nothing else):
# X-Ray's patch_all would import every library it knows how to trace, at every cold start.
tracer = Tracer(service=contracts.INGEST_SERVICE, patch_modules=["botocore"])
# The package logs through the standard library; give its loggers this handler's JSON format.
copy_config_to_registered_loggers(source_logger=logger, include={"genesys_bridge"})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    return runtime.ingest_service(metrics).handle(event).as_dict()
