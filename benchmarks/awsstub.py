"""A local stand-in for AWS: real boto3 clients whose requests are answered in-process.

The answer is given at botocore's `before-send` hook, i.e. after the request was validated, serialized
and signed, and before any socket: the CPU a handler spends in botocore is measured, the network is
not. moto is not used here on purpose: its emulation would cost more CPU than the code under test.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.compat import HTTPHeaders
from botocore.config import Config


class _RawBody:
    """The one method of a urllib3 response that botocore reads a body through."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


class StubAws:
    """Counts every call by (service, operation) and answers DynamoDB and SQS like AWS would.

    DynamoDB UpdateItem with ReturnValues=ALL_OLD returns the old attributes when the key was seen
    before, so the buffer's "created or duplicate" logic takes its real branches.
    """

    def __init__(self, region: str = "us-east-1") -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self._seen_keys: set[str] = set()
        # Any: boto3-stubs overload client() per literal service name, which a str argument cannot match
        self._session: Any = boto3.session.Session(
            # not a secret: signing needs some key, and nothing leaves the process
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106
            region_name=region,
        )

    def client(self, service: str) -> Any:
        client: BaseClient = self._session.client(service, config=Config(retries={"max_attempts": 1}))
        self.attach(client.meta.events)
        return client

    def attach(self, events: Any) -> None:
        """Answer every request of the clients that use this event emitter (a client's or a session's)."""
        # a before-send handler that returns a response short-circuits the HTTP send
        events.register("before-send", cast(Any, self._answer))

    def count(self, service: str) -> int:
        return sum(n for (name, _op), n in self.calls.items() if name == service)

    def _answer(self, request: AWSPreparedRequest, event_name: str, **_kwargs: Any) -> AWSResponse:
        # event_name is "before-send.<service>.<Operation>"
        _hook, service, operation = event_name.split(".", 2)
        self.calls[(service, operation)] += 1
        raw = request.body
        body = json.loads(raw) if isinstance(raw, bytes | str) and raw else {}
        answer = self._response(service, operation, body)
        payload = json.dumps(answer).encode()
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 200, headers, _RawBody(payload))

    def _response(self, service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        if service == "dynamodb" and operation == "UpdateItem":
            key = json.dumps(body.get("Key"), sort_keys=True)
            existed = key in self._seen_keys
            self._seen_keys.add(key)
            return {"Attributes": body.get("Key", {})} if existed and "ReturnValues" in body else {}
        if service == "sqs" and operation == "SendMessage":
            digest = hashlib.md5(body.get("MessageBody", "").encode(), usedforsecurity=False).hexdigest()
            return {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": digest}
        return {}
