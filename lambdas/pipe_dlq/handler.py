"""Pipe DLQ resolver Lambda: an SQS batch of pipe dead-letter pointers -> work-queue messages.

Thin on purpose: Powertools decorators plus one call into genesys_bridge, which reads each pointer's
stream records and runs the batch through Powertools' BatchProcessor. Importing this module reads no
environment and makes no network call; settings and clients are created on the first invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from genesys_bridge import contracts, runtime

logger = Logger(service=contracts.PIPE_DLQ_SERVICE)
metrics = Metrics(namespace=contracts.METRICS_NAMESPACE, service=contracts.PIPE_DLQ_SERVICE)
# Patch only what this function uses (DynamoDB Streams and SQS through botocore).
tracer = Tracer(service=contracts.PIPE_DLQ_SERVICE, patch_modules=["botocore"])
# The package logs through the standard library; give its loggers this handler's JSON format.
copy_config_to_registered_loggers(source_logger=logger, include={"genesys_bridge"})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(runtime.pipe_dlq_resolver(metrics).process_batch(event, context))
