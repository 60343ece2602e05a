"""Per-process wiring for the Lambda handlers: settings, AWS clients, the Genesys client, the services.

Everything here is created on first use and cached for the life of the process (a Lambda container),
never at import: importing a handler must need no environment, make no network call and read no
secret. The Genesys client (requests, tenacity) is imported only when the processor is first built, so
the ingest function never loads it; each service module loads only with its own handler. `reset()`
forgets it all, for tests and the local runner, which call the handlers many times in one process,
each time under a fresh moto.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from genesys_bridge.buffer import BufferTable
from genesys_bridge.metrics import MetricsSink
from genesys_bridge.settings import GenesysAccessSettings, IngestSettings, PipeDlqSettings, ProcessorSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from genesys_bridge.genesys import GenesysClient
    from genesys_bridge.ingest import IngestService
    from genesys_bridge.pipe_dlq import PipeDlqResolver
    from genesys_bridge.processor import ProcessorService

# Credentials are re-read at most this often; a rotated secret reaches a warm container within it.
SECRET_MAX_AGE_SECONDS = 300

# Short connect timeout (an AWS endpoint answers at once or not at all), a read timeout well inside a
# Lambda invocation, botocore's standard retry mode (jittered backoff, retry quota) and enough pooled
# connections for the processor's worker threads.
BOTO_CONFIG = Config(
    connect_timeout=2,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=32,
)

# The package's modules log through the standard library, as children of this logger. Registering it
# at import lets the handlers give it their Powertools JSON format (copy_config_to_registered_loggers
# configures the top-level loggers that exist at that moment) before any child logger is created.
PACKAGE_LOGGER = logging.getLogger("genesys_bridge")
logger = logging.getLogger(__name__)

_lock = threading.RLock()
_cache: dict[str, Any] = {}


def reset() -> None:
    """Forget settings, clients, credentials and services (tests, the local runner); next use rebuilds."""
    with _lock:
        # The processor's Genesys client, the audit's and the lookups' (genesys_bridge.audit.runtime,
        # genesys_bridge.lookups.runtime).
        clients = [_cache.get(name) for name in ("genesys", "audit_genesys", "lookups_genesys")]
        _cache.clear()
    for client in clients:
        if client is not None:
            client.close()
    # Powertools caches the secret (and its boto3 client) in a module-level provider.
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()


def cached_per_process(name: str, build: Any) -> Any:
    """`build()` once per process under `name` (a Lambda container serves invocations one at a time, the
    local runner's threads share it); `reset()` forgets every entry. The audit's runtime uses it too."""
    with _lock:
        if name not in _cache:
            _cache[name] = build()
        return _cache[name]


def boto_client(service: str) -> Any:
    """One boto3 client per service per process, with the project's retry and timeout config."""
    return cached_per_process(f"boto3:{service}", lambda: boto3.client(service, config=BOTO_CONFIG))  # type: ignore[call-overload]


def dynamodb_client() -> DynamoDBClient:
    client: DynamoDBClient = boto_client("dynamodb")
    return client


def dynamodbstreams_client() -> DynamoDBStreamsClient:
    client: DynamoDBStreamsClient = boto_client("dynamodbstreams")
    return client


def sqs_client() -> SQSClient:
    client: SQSClient = boto_client("sqs")
    return client


def s3_client() -> S3Client:
    client: S3Client = boto_client("s3")
    return client


def ingest_settings() -> IngestSettings:
    settings: IngestSettings = cached_per_process("ingest_settings", IngestSettings.from_environment)
    return settings


def processor_settings() -> ProcessorSettings:
    settings: ProcessorSettings = cached_per_process("processor_settings", ProcessorSettings.from_environment)
    return settings


def ingest_service(metrics: MetricsSink) -> IngestService:
    """The ingest service, built on first call; `metrics` is bound then (the handler's Metrics)."""

    def build() -> IngestService:
        from genesys_bridge.ingest import IngestService

        settings = ingest_settings()
        return IngestService(
            buffer=BufferTable(
                dynamodb_client(), settings.buffer_table_name, ttl_hours=settings.buffer_ttl_hours
            ),
            sqs_client=sqs_client(),
            quarantine_queue_url=settings.quarantine_queue_url,
            metrics=metrics,
            topics=settings.conversation_topics,
            work_queue_url=settings.work_queue_url,
        )

    service: IngestService = cached_per_process("ingest_service", build)
    return service


def genesys_client() -> GenesysClient:
    """The processor's Genesys client, paced at this process's share of the deployment's budget."""
    settings = processor_settings()
    return cached_genesys_client(
        "genesys",
        settings,
        max_requests_per_minute=settings.requests_per_minute_per_caller,
        ids_per_request=settings.genesys_ids_per_request,
    )


def cached_genesys_client(
    name: str,
    settings: GenesysAccessSettings,
    *,
    max_requests_per_minute: int,
    ids_per_request: int | None = None,
) -> GenesysClient:
    """The Genesys client cached as `name`, with the current credentials from Secrets Manager.

    Called on every invocation: Powertools serves the secret from its cache and asks Secrets Manager
    again only after SECRET_MAX_AGE_SECONDS, so a rotated secret reaches a warm container within that
    time (the client then drops its token and fetches one with the new credentials).
    """
    from aws_lambda_powertools.utilities import parameters

    secret_id = settings.genesys_credentials_secret_arn
    # Read as text and parsed here, not with transform="json": Powertools' transform error names neither
    # the secret nor the shape it expected.
    raw = parameters.get_secret(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
    client_id, client_secret = _credentials(raw, secret_id)

    def build() -> GenesysClient:
        from genesys_bridge.genesys import GenesysClient

        # None: the client's own default (the audit makes no multi-get requests)
        sizing: dict[str, Any] = {} if ids_per_request is None else {"ids_per_request": ids_per_request}
        return GenesysClient(
            region=settings.genesys_region,
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=settings.genesys_api_base_url,
            login_base_url=settings.genesys_login_base_url,
            max_requests_per_minute=max_requests_per_minute,
            **sizing,
        )

    client: GenesysClient = cached_per_process(name, build)
    if client.use_credentials(client_id, client_secret):
        logger.info("Genesys credentials rotated; the next request fetches a new token")
    return client


CREDENTIALS_SHAPE = '{"client_id": "...", "client_secret": "..."}'


def _credentials(raw: Any, secret_id: str) -> tuple[str, str]:
    """client_id and client_secret from the secret's value. Every error names the secret and the
    expected shape, never the value (nor a part of it, such as a JSON error's excerpt)."""

    def refuse(problem: str) -> ValueError:
        return ValueError(
            f"the Genesys credentials secret {secret_id} {problem}; "
            f"expected a JSON object {CREDENTIALS_SHAPE}"
        )

    try:
        secret = json.loads(raw)
    except (TypeError, ValueError):
        raise refuse("is not JSON") from None
    if not isinstance(secret, dict):
        raise refuse("is JSON but not an object")
    client_id, client_secret = secret.get("client_id"), secret.get("client_secret")
    if (
        not isinstance(client_id, str)
        or not client_id
        or not isinstance(client_secret, str)
        or not client_secret
    ):
        raise refuse('lacks a non-empty string "client_id" or "client_secret"')
    return client_id, client_secret


def processor_service(metrics: MetricsSink) -> ProcessorService:
    """The processor service, built on first call; `metrics` is bound then (the handler's Metrics).

    Every call asks for the Genesys client first, so a rotated secret reaches a warm container before
    the batch needs a token (genesys_client).
    """
    genesys_client()

    def build() -> ProcessorService:
        from genesys_bridge.processor import ProcessorConfig, ProcessorService
        from genesys_bridge.results import ResultsWriter

        settings = processor_settings()
        genesys = genesys_client()
        return ProcessorService(
            genesys=genesys,
            buffer=BufferTable(dynamodb_client(), settings.buffer_table_name),
            results=ResultsWriter(s3_client(), settings.results_bucket_name),
            sqs_client=sqs_client(),
            config=ProcessorConfig.from_settings(settings),
            metrics=metrics,
            stats=genesys.stats.snapshot,
        )

    service: ProcessorService = cached_per_process("processor_service", build)
    return service


def pipe_dlq_settings() -> PipeDlqSettings:
    settings: PipeDlqSettings = cached_per_process("pipe_dlq_settings", PipeDlqSettings.from_environment)
    return settings


def pipe_dlq_resolver(metrics: MetricsSink) -> PipeDlqResolver:
    """The pipe DLQ resolver, built on first call; `metrics` is bound then (the handler's Metrics)."""

    def build() -> PipeDlqResolver:
        from genesys_bridge.pipe_dlq import PipeDlqResolver, ResolverConfig

        settings = pipe_dlq_settings()
        return PipeDlqResolver(
            streams_client=dynamodbstreams_client(),
            sqs_client=sqs_client(),
            config=ResolverConfig(
                stream_arn=settings.buffer_stream_arn,
                work_queue_url=settings.work_queue_url,
                unresolved_queue_url=settings.pipe_unresolved_queue_url,
            ),
            metrics=metrics,
        )

    service: PipeDlqResolver = cached_per_process("pipe_dlq_resolver", build)
    return service
