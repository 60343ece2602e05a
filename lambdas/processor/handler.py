"""Processor Lambda: an SQS batch of conversation ids -> details in S3 and a partial batch response.

Thin on purpose: Powertools decorators plus one call into genesys_bridge, which runs the batch through
Powertools' BatchProcessor. Importing this module reads no environment, makes no network call and reads
no secret: settings, clients and credentials are created on the first invocation and cached.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from genesys_bridge import contracts, runtime

logger = Logger(service=contracts.PROCESSOR_SERVICE)
metrics = Metrics(namespace=contracts.METRICS_NAMESPACE, service=contracts.PROCESSOR_SERVICE)
# Patch only what this function uses (AWS through botocore and Genesys through requests):
# X-Ray's patch_all would import every library it knows how to trace, at every cold start.
tracer = Tracer(service=contracts.PROCESSOR_SERVICE, patch_modules=["botocore", "requests"])
# The package (and the Genesys client) log through the standard library; give them this JSON format.
copy_config_to_registered_loggers(source_logger=logger, include={"genesys_bridge"})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(runtime.processor_service(metrics).process_batch(event, context))
