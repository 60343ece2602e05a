"""The views custom resource's Lambda handler on moto's Athena (which records queries, runs none)."""

from __future__ import annotations

import boto3
from moto import mock_aws

from catalog import sqlsource
from lambdas.catalog_views import handler
from tests.unit.domain.builders import LambdaContextStub


@mock_aws
def test_the_handler_starts_each_view_statement_in_athena_and_answers_cloudformation() -> None:
    # Given the stack's Create request for the catalog's views
    athena = boto3.client("athena")
    athena.create_work_group(Name="genesys-analytics-bridge-dev", Configuration={})
    event = {
        "RequestType": "Create",
        "ResourceProperties": {
            "Database": "genesys_analytics_bridge_dev",
            "WorkGroup": "genesys-analytics-bridge-dev",
            "Views": [{"Name": name, "Sql": sql} for name, sql in sqlsource.create_view_statements()],
        },
    }

    # When the handler runs
    response = handler.handler(event, LambdaContextStub(function_name="catalog-views"))  # type: ignore[arg-type]

    # Then every statement was started in the catalog's workgroup and database, and the resource exists
    executions = [
        athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        for query_id in athena.list_query_executions(WorkGroup="genesys-analytics-bridge-dev")[
            "QueryExecutionIds"
        ]
    ]
    assert sorted(execution["Query"] for execution in executions) == sorted(
        sql for _, sql in sqlsource.create_view_statements()
    )
    assert {execution["QueryExecutionContext"]["Database"] for execution in executions} == {
        "genesys_analytics_bridge_dev"
    }
    assert response["PhysicalResourceId"] == "genesys-analytics-bridge-dev/genesys_analytics_bridge_dev/views"
