"""The catalog in the template: the table Athena reads the landed objects through, the workgroup, the
views and the KPI queries, all generated from catalog/ and the layout result_key writes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from catalog import schema, sqlsource
from catalog.sqlsource import DETAILS_TABLE
from genesys_bridge import layout
from genesys_bridge.results import result_key
from stacks.catalog import JSON_SERDE_PARAMETERS, table_columns_fingerprint
from stacks.config import ConfigError, parse_environment_config
from tests.infrastructure.conftest import SynthesizedEnvironment
from tests.infrastructure.test_config import settings
from tests.infrastructure.test_resources import (
    actions_of,
    function_named,
    logical_id_of,
    policy_statements_of_role,
    resources,
)


def _one(environment: SynthesizedEnvironment, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(environment, resource_type)
    if resource_type == "AWS::Glue::Table":  # the details table; the lookups' have tests of their own
        found = {k: r for k, r in found.items() if r["Properties"]["TableInput"]["Name"] == DETAILS_TABLE}
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    ((logical_id, resource),) = found.items()
    return logical_id, resource["Properties"]


def _table(environment: SynthesizedEnvironment, name: str) -> tuple[str, dict[str, Any]]:
    found = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources(environment, "AWS::Glue::Table").items()
        if resource["Properties"]["TableInput"]["Name"] == name
    ]
    assert len(found) == 1, f"expected one Glue table {name}, found {found}"
    return found[0]


OPENX_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def _join(value: Any, refs: dict[str, str]) -> str:
    """A template string value, with each {"Ref": id} replaced by refs[id]."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return refs[value["Ref"]]
    separator, parts = value["Fn::Join"]
    return separator.join(_join(part, refs) for part in parts)


class TestDetailsTable:
    def test_the_table_reads_the_results_prefix_with_the_openx_json_serde(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, table = _table(each_environment, sqlsource.DETAILS_TABLE)
        bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
        descriptor = table["TableInput"]["StorageDescriptor"]

        assert table["TableInput"]["Name"] == "conversation_details"
        assert table["TableInput"]["TableType"] == "EXTERNAL_TABLE"
        # the SerDe Athena documents ignore.malformed.json for (docs/query.md, "Malformed objects")
        assert descriptor["SerdeInfo"]["SerializationLibrary"] == OPENX_JSON_SERDE
        assert descriptor["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
        assert (
            _join(descriptor["Location"], {bucket: "results-bucket"}) == "s3://results-bucket/conversations/"
        )

    def test_the_serde_skips_an_object_it_cannot_parse_instead_of_failing_every_query(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, table = _table(each_environment, sqlsource.DETAILS_TABLE)

        serde = table["TableInput"]["StorageDescriptor"]["SerdeInfo"]
        assert serde["Parameters"] == {"ignore.malformed.json": "TRUE"}

    def test_the_columns_are_the_schema_and_the_partition_is_the_day(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, table = _table(each_environment, sqlsource.DETAILS_TABLE)

        columns = table["TableInput"]["StorageDescriptor"]["Columns"]
        assert [(column["Name"], column["Type"]) for column in columns] == schema.columns()
        assert table["TableInput"]["PartitionKeys"] == [{"Name": "conversation_date", "Type": "string"}]

    def test_partition_projection_finds_each_day_where_result_key_lands_it(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, table = _table(each_environment, sqlsource.DETAILS_TABLE)
        bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
        parameters = table["TableInput"]["Parameters"]

        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.conversation_date.type"] == "date"
        assert parameters["projection.conversation_date.format"] == "yyyy-MM-dd"
        assert (
            parameters["projection.conversation_date.range"]
            == f"{each_environment.config.catalog_first_day},NOW"
        )
        # the folder the template names for a day is the one result_key puts that day's objects in
        template = _join(parameters["storage.location.template"], {bucket: "results-bucket"})
        key = result_key(
            {
                "conversationId": "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10",
                "conversationStart": "2026-11-20T13:59:53.179Z",
            }
        )
        folder = template.replace("${conversation_date}", "2026-11-20")
        assert f"s3://results-bucket/{key}" == folder + "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10.json"


class TestCompactionTables:
    def test_the_compacted_table_reads_each_days_parquet_folder_with_the_details_columns(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, table = _table(each_environment, sqlsource.COMPACTED_TABLE)
        bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
        descriptor = table["TableInput"]["StorageDescriptor"]
        parameters = table["TableInput"]["Parameters"]

        assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
        assert [(column["Name"], column["Type"]) for column in descriptor["Columns"]] == schema.columns()
        assert table["TableInput"]["PartitionKeys"] == [{"Name": "conversation_date", "Type": "string"}]
        template = _join(parameters["storage.location.template"], {bucket: "results-bucket"})
        day_folder = template.replace("${conversation_date}", "2026-11-20")
        assert day_folder == f"s3://results-bucket/{layout.COMPACTED.day_prefix(date(2026, 11, 20))}"
        assert (
            parameters["projection.conversation_date.range"]
            == f"{each_environment.config.catalog_first_day},NOW"
        )

    def test_the_markers_table_reads_each_days_marker_with_the_one_json_serde(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, markers = _table(each_environment, sqlsource.MARKERS_TABLE)
        _, details = _table(each_environment, sqlsource.DETAILS_TABLE)
        bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
        serde = markers["TableInput"]["StorageDescriptor"]["SerdeInfo"]

        # one SerDe choice for every JSON table (stacks/catalog.py, JSON_SERDE)
        assert serde == details["TableInput"]["StorageDescriptor"]["SerdeInfo"]
        assert serde["Parameters"] == JSON_SERDE_PARAMETERS
        template = _join(markers["TableInput"]["Parameters"]["storage.location.template"], {bucket: "b"})
        marker_key = layout.compaction_marker_key(date(2026, 11, 20))
        assert f"s3://b/{marker_key}".startswith(template.replace("${conversation_date}", "2026-11-20"))


class TestWorkGroup:
    def test_query_settings_are_enforced_with_a_scan_cutoff_and_encrypted_results(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, workgroup = _one(each_environment, "AWS::Athena::WorkGroup")
        results_bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Catalog/QueryResultsBucket/")
        configuration = workgroup["WorkGroupConfiguration"]

        assert workgroup["Name"] == f"genesys-analytics-bridge-{each_environment.config.environment_name}"
        assert configuration["EnforceWorkGroupConfiguration"] is True
        assert configuration["PublishCloudWatchMetricsEnabled"] is True
        assert configuration["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
        assert configuration["BytesScannedCutoffPerQuery"] == (
            each_environment.config.athena_bytes_scanned_cutoff_mb * 1024 * 1024
        )
        result = configuration["ResultConfiguration"]
        assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
        assert (
            _join(result["OutputLocation"], {results_bucket: "query-results"})
            == "s3://query-results/results/"
        )

    def test_query_results_have_their_own_encrypted_bucket_that_expires_them(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        bucket_id = logical_id_of(each_environment, "AWS::S3::Bucket", "/Catalog/QueryResultsBucket/")
        bucket = resources(each_environment, "AWS::S3::Bucket")[bucket_id]["Properties"]

        (rule,) = bucket["LifecycleConfiguration"]["Rules"]
        assert rule["ExpirationInDays"] == each_environment.config.athena_query_results_expire_days
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert all(bucket["PublicAccessBlockConfiguration"].values())


class TestViews:
    def test_every_view_is_created_through_athena_in_order_after_the_table_and_workgroup(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        ((_, views),) = resources(each_environment, "Custom::AthenaViews").items()
        table_ids = {_table(each_environment, name)[0] for name in sqlsource.TABLES}
        workgroup_id, _ = _one(each_environment, "AWS::Athena::WorkGroup")
        properties = views["Properties"]

        # uncompacted_days' calendar starts at the catalog's first day
        first_day = date.fromisoformat(each_environment.config.catalog_first_day)
        assert [
            (view["Name"], view["Sql"]) for view in properties["Views"]
        ] == sqlsource.create_view_statements(first_day)
        assert f"DATE '{first_day}'" in properties["Views"][sqlsource.VIEWS.index("uncompacted_days")]["Sql"]
        assert (
            properties["Database"] == f"genesys_analytics_bridge_{each_environment.config.environment_name}"
        )
        assert properties["WorkGroup"] == {"Ref": workgroup_id}
        # a change of the table's columns alone re-creates the views (Athena would call them stale)
        assert properties["TableColumns"] == table_columns_fingerprint()
        assert {*table_ids, workgroup_id} <= set(views["DependsOn"])
        kept = each_environment.config.retain_data
        assert views["DeletionPolicy"] == ("RetainExceptOnCreate" if kept else "Delete")

    def test_dev_drops_the_views_before_its_query_results_bucket_is_emptied_and_locked(
        self, dev: SynthesizedEnvironment
    ) -> None:
        # DROP VIEW writes its result to the query-results bucket; CloudFormation deletes in reverse
        # dependency order, so the views must depend on the custom resource that empties that bucket
        ((_, views),) = resources(dev, "Custom::AthenaViews").items()
        emptying = logical_id_of(dev, "Custom::S3AutoDeleteObjects", "/QueryResultsBucket/")
        assert emptying in views["DependsOn"]

    def test_the_views_function_may_run_statements_only_in_the_catalogs_workgroup_and_database(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        _, function = function_named(each_environment, "catalog-views")
        role_id = function["Role"]["Fn::GetAtt"][0]
        statements = policy_statements_of_role(each_environment, role_id)
        database = f"genesys_analytics_bridge_{each_environment.config.environment_name}"

        assert {"athena:StartQueryExecution", "athena:GetQueryExecution", "glue:CreateTable"} <= actions_of(
            statements
        )
        athena = [s for s in statements if any(str(a).startswith("athena:") for a in s["Action"])]
        assert all("workgroup/" in str(s["Resource"]) for s in athena)
        glue = [s for s in statements if any(str(a).startswith("glue:") for a in s["Action"])]
        named = str(glue)
        assert f"table/{database}/conversation_details" in named
        assert all(f"table/{database}/{view}" in named for view in sqlsource.VIEWS)
        assert "table/*" not in named
        assert f"{database}/*" not in named

    def test_each_kpi_query_is_saved_in_the_workgroup(self, each_environment: SynthesizedEnvironment) -> None:
        workgroup_id, _ = _one(each_environment, "AWS::Athena::WorkGroup")
        saved = {
            query["Properties"]["Name"]: query["Properties"]
            for query in resources(each_environment, "AWS::Athena::NamedQuery").values()
        }

        assert set(saved) == set(sqlsource.KPI_QUERIES)
        for name, query in saved.items():
            assert query["QueryString"] == sqlsource.kpi_query(name).sql
            assert query["WorkGroup"] == {"Ref": workgroup_id}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"catalog_first_day": "2026-1-1"}, "catalog_first_day: '2026-1-1' is not a YYYY-MM-DD day"),
        ({"catalog_first_day": "2026-02-30"}, "catalog_first_day: '2026-02-30' is not a YYYY-MM-DD day"),
        ({"catalog_first_day": "2999-01-01"}, "from 2000-01-01 to today"),
        (
            {"athena_bytes_scanned_cutoff_mb": 5},
            "athena_bytes_scanned_cutoff_mb: Input should be greater than or equal to 10",
        ),
        ({"athena_query_results_expire_days": 0}, "athena_query_results_expire_days"),
    ],
)
def test_catalog_settings_out_of_range_fail_naming_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("staging", settings(**overrides))
    assert message in str(raised.value)


def test_catalog_defaults() -> None:
    config = parse_environment_config("staging", settings())
    assert (
        config.catalog_first_day,
        config.athena_bytes_scanned_cutoff_mb,
        config.athena_query_results_expire_days,
    ) == (
        "2026-01-01",
        10_240,
        7,
    )
