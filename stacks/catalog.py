"""Catalog: the landed details as Glue tables (the JSON objects, the compacted days' Parquet and their
markers), an Athena workgroup, the views and the named KPI queries.

Everything is generated from catalog/ (the schema, the SQL) and genesys_bridge.layout, so the
stack and `make query` can never describe the data differently. The views are created through Athena
itself by a custom resource, so Athena works out their columns and a view that does not compile fails
the deploy (docs/query.md, "Why the views are created through Athena").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from aws_cdk import CfnElement, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from catalog import schema, sqlsource
from catalog.sqlsource import COMPACTED_TABLE, DETAILS_TABLE, MARKERS_TABLE
from genesys_bridge import contracts, layout
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory
from stacks.log_groups import log_group
from stacks.nag import acknowledge_nag_finding
from stacks.storage import private_bucket

ATHENA_ENGINE_VERSION = "Athena engine version 3"
# Athena refuses a per-query cutoff below 10,000,000 bytes.
MIN_BYTES_SCANNED_CUTOFF_MB = 10
RESULTS_PREFIX = "results/"
# The JSON SerDe of every table over JSON objects (the details, the compaction markers, the lookups),
# chosen once here: the OpenX SerDe, the one Athena documents the property below for ("Unlike the Hive
# JSON SerDe, the OpenX JSON SerDe also has the following optional SerDe properties",
# https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html; the example of "Best practices for
# reading JSON data", https://docs.aws.amazon.com/athena/latest/ug/parsing-JSON.html). It skips an object
# it cannot parse (a row of NULLs, which the views leave out) instead of failing the query. Its
# case.insensitive default (TRUE) matches keys to columns as the Hive SerDe does; keys that differ only
# in case would collide, and catalog.schema refuses such fields (docs/query.md, "Malformed objects").
JSON_SERDE = glue.SerializationLibrary.OPENX_JSON
IGNORE_MALFORMED_JSON = "ignore.malformed.json"
JSON_SERDE_PARAMETERS = {IGNORE_MALFORMED_JSON: "TRUE"}
# The child a bucket with auto_delete_objects gets: the custom resource that empties it on deletion.
AUTO_DELETE_OBJECTS_CHILD = "AutoDeleteObjectsCustomResource"


def json_data_format() -> glue.DataFormat:
    """The data format of a table over one-line JSON objects (JSON_SERDE); give the table
    JSON_SERDE_PARAMETERS with apply_json_serde_parameters."""
    return glue.DataFormat(
        input_format=glue.InputFormat.TEXT,
        output_format=glue.OutputFormat.HIVE_IGNORE_KEY_TEXT,
        serialization_library=JSON_SERDE,
    )


def apply_json_serde_parameters(table: glue.S3Table) -> None:
    """JSON_SERDE_PARAMETERS on a table; the L2 table has no SerDe parameters, hence the override."""
    cast(glue.CfnTable, table.node.default_child).add_property_override(
        "TableInput.StorageDescriptor.SerdeInfo.Parameters", JSON_SERDE_PARAMETERS
    )


def fixed_name_removal_policy(removal_policy: RemovalPolicy) -> RemovalPolicy:
    """For resources with a fixed name (the database, the table, the workgroup): kept like the data on
    stack deletion, but removed when their first creation rolls back. Kept there too, they would make
    the next deploy fail with AlreadyExists (docs/operations.md, "Teardown")."""
    if removal_policy == RemovalPolicy.RETAIN:
        return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    return removal_policy


@dataclass(frozen=True)
class CatalogSettings:
    environment_name: str
    first_day: str  # yyyy-MM-dd: the projection's first partition
    bytes_scanned_cutoff_mb: int
    results_expire_after_days: int
    log_retention_days: int  # of the views provider's log group, as for every function

    @property
    def database_name(self) -> str:
        # Glue and Athena want lower case, digits and underscores.
        return f"genesys_analytics_bridge_{self.environment_name.replace('-', '_')}"

    @property
    def workgroup_name(self) -> str:
        return f"genesys-analytics-bridge-{self.environment_name}"


class Catalog(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: CatalogSettings,
        results_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        functions: PythonFunctionFactory,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        named = fixed_name_removal_policy(removal_policy)
        self.database = glue.Database(
            self, "Database", database_name=settings.database_name, removal_policy=named
        )
        self.table = self._details_table(results_bucket, named)
        self.compacted_table = self._compacted_table(results_bucket, named)
        self.flat_tables = [
            self._day_table(
                f"{flat.view.title().replace('_', '')}CompactedTable",
                flat.table,
                f"Compacted days' {flat.view.replace('_', ' ')} flattened (Parquet), read while a day has "
                "its marker",
                flat.dataset,
                schema.columns(flat.row),
                results_bucket,
                named,
                parquet=True,
            )
            for flat in sqlsource.FLAT.values()
        ]
        self.markers_table = self._markers_table(results_bucket, named)
        self.lookup_tables = self._lookup_tables(results_bucket, named)
        self.query_results_bucket = self._query_results_bucket(access_logs_bucket, removal_policy)
        self.workgroup = self._workgroup(named)
        self.views = self._views(functions, removal_policy, named)
        self.named_queries = [
            athena.CfnNamedQuery(
                self,
                f"Kpi{name.title().replace('_', '')}",
                name=name,
                description=description,
                database=settings.database_name,
                work_group=self.workgroup.ref,
                query_string=sqlsource.kpi_query(name).sql,
            )
            for name, description in sqlsource.KPI_QUERIES.items()
        ]
        for query in self.named_queries:
            query.node.add_dependency(self.views)

    def _details_table(self, results_bucket: s3.IBucket, removal_policy: RemovalPolicy) -> glue.S3Table:
        return self._day_table(
            "DetailsTable",
            DETAILS_TABLE,
            "Genesys conversation details as the bridge lands them, one JSON object each",
            layout.CONVERSATIONS,
            schema.columns(),
            results_bucket,
            removal_policy,
        )

    def _lookup_tables(self, results_bucket: s3.IBucket, removal_policy: RemovalPolicy) -> list[glue.S3Table]:
        """One table per lookup over its daily snapshots (docs/query.md, "Lookups"); the views read them."""
        return [
            self._day_table(
                f"{lookup.title().replace('_', '')}SnapshotsTable",
                table_name,
                f"Daily snapshots of the Genesys {lookup.replace('_', ' ')} listing, a JSON line per entity",
                layout.lookup_dataset(lookup),
                schema.columns(schema.LOOKUP_ENTITIES[lookup]),
                results_bucket,
                removal_policy,
            )
            for lookup, table_name in sqlsource.LOOKUP_TABLES.items()
        ]

    def _day_table(
        self,
        construct_id: str,
        table_name: str,
        description: str,
        files: layout.Dataset,
        columns: list[tuple[str, str]],
        results_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
        *,
        parquet: bool = False,
    ) -> glue.S3Table:
        """A table over one dataset of the results bucket, one day's folder per partition: JSON objects,
        or with `parquet` a compacted dataset's Parquet files."""
        table = glue.S3Table(
            self,
            construct_id,
            database=self.database,
            table_name=table_name,
            description=description,
            storage=glue.S3TableStorage.from_bucket(results_bucket),
            s3_prefix=files.prefix,
            columns=[glue.Column(name=name, type=glue.Schema.custom(hive, False)) for name, hive in columns],
            partition_keys=[glue.Column(name=files.partition_column, type=glue.Schema.STRING)],
            data_format=glue.DataFormat.PARQUET if parquet else json_data_format(),
            **self._projected(files, results_bucket, "parquet" if parquet else "json"),
        )
        if not parquet:
            # One object the SerDe cannot read must not fail every query (JSON_SERDE).
            apply_json_serde_parameters(table)
        table.apply_removal_policy(removal_policy)
        return table

    def _compacted_table(self, results_bucket: s3.IBucket, removal_policy: RemovalPolicy) -> glue.S3Table:
        """The compacted days: the details' columns as Parquet, a folder per day (layout.COMPACTED)."""
        return self._day_table(
            "CompactedTable",
            COMPACTED_TABLE,
            "Compacted days of conversation details (Parquet), read while a day has its marker",
            layout.COMPACTED,
            schema.columns(),
            results_bucket,
            removal_policy,
            parquet=True,
        )

    def _markers_table(self, results_bucket: s3.IBucket, removal_policy: RemovalPolicy) -> glue.S3Table:
        """The compaction markers, one object a compacted day (layout.COMPACTION_MARKERS)."""
        return self._day_table(
            "MarkersTable",
            MARKERS_TABLE,
            "One object per compacted day, written after its Parquet",
            layout.COMPACTION_MARKERS,
            [("compacted_at", "string"), ("engine", "string")],
            results_bucket,
            removal_policy,
        )

    def _projected(
        self, files: layout.Dataset, results_bucket: s3.IBucket, classification: str
    ) -> dict[str, Any]:
        """A table's partition projection by day from the catalog's first day, and its parameters."""
        return {
            # Partition projection: Athena computes each day's folder, so no crawler and no MSCK REPAIR
            # (https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html).
            "partition_projection": {
                files.partition_column: glue.PartitionProjectionConfiguration.date(
                    min=self.settings.first_day, max="NOW", format=layout.PROJECTION_DAY_FORMAT
                )
            },
            "parameters": {
                "storage.location.template": files.location_template(results_bucket.bucket_name),
                "classification": classification,
            },
            # SSE-S3 objects need no table property; has_encrypted_data marks client-side encryption
            # (https://docs.aws.amazon.com/athena/latest/ug/creating-tables-based-on-encrypted-datasets-in-s3.html).
            "has_encrypted_data": False,
        }

    def _query_results_bucket(
        self, access_logs_bucket: s3.IBucket, removal_policy: RemovalPolicy
    ) -> s3.Bucket:
        return private_bucket(
            self,
            "QueryResultsBucket",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-query-results",
                    expiration=Duration.days(self.settings.results_expire_after_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            access_logs=(access_logs_bucket, "athena-query-results/"),
        )

    def _workgroup(self, removal_policy: RemovalPolicy) -> athena.CfnWorkGroup:
        workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.settings.workgroup_name,
            description="Queries of the Genesys Analytics Bridge's landed conversation details",
            state="ENABLED",
            # A destroyed dev stack takes its saved queries and history with it.
            recursive_delete_option=removal_policy == RemovalPolicy.DESTROY,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                # Clients cannot override the results location, its encryption or the cutoff.
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=self.settings.bytes_scanned_cutoff_mb * 1024 * 1024,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.query_results_bucket.bucket_name}/{RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                    expected_bucket_owner=Stack.of(self).account,
                ),
            ),
        )
        workgroup.apply_removal_policy(removal_policy)
        return workgroup

    def _views(
        self, functions: PythonFunctionFactory, removal_policy: RemovalPolicy, named: RemovalPolicy
    ) -> CustomResource:
        function = functions.build(
            self,
            "ViewsFunction",
            FunctionSpec(
                handler_folder="catalog_views",
                service_name=contracts.CATALOG_VIEWS_SERVICE,
                description="Creates the catalog's Athena views at deploy time (custom resource)",
                memory_mb=256,
                timeout=Duration.minutes(5),
            ),
        )
        assert function.role is not None  # the factory gives every function its own role
        self._grant_view_statements(function.role)
        provider = cr.Provider(
            self,
            "ViewsProvider",
            on_event_handler=function,
            log_group=log_group(
                self,
                "ViewsProviderLogs",
                retention_days=self.settings.log_retention_days,
                removal_policy=removal_policy,
            ),
        )
        views = CustomResource(
            self,
            "Views",
            service_token=provider.service_token,
            resource_type="Custom::AthenaViews",
            properties={
                "Database": self.settings.database_name,
                "WorkGroup": self.workgroup.ref,
                "Views": [
                    {"Name": name, "Sql": sql}
                    for name, sql in sqlsource.create_view_statements(
                        date.fromisoformat(self.settings.first_day)
                    )
                ],
                # Athena stores a view's columns when it is created and calls it stale once the table's
                # columns change: a new schema must re-run the statements even if their text is the same.
                "TableColumns": table_columns_fingerprint(),
            },
            # The views are catalog entries of fixed names in the database, kept and removed with it.
            removal_policy=named,
        )
        views.node.add_dependency(
            self.table,
            self.compacted_table,
            *self.flat_tables,
            self.markers_table,
            *self.lookup_tables,
            self.workgroup,
        )
        # DROP VIEW on delete writes its result to the query-results bucket: in an environment that
        # empties its buckets, the emptying custom resource (which also refuses new objects) must be
        # deleted after the views, so the views depend on it.
        emptying = self.query_results_bucket.node.try_find_child(AUTO_DELETE_OBJECTS_CHILD)
        if emptying is not None:
            views.node.add_dependency(emptying)
        self._acknowledge_provider(provider, function)
        return views

    def _grant_view_statements(self, role: iam.IRole) -> None:
        """What Athena needs from the caller of CREATE/DROP VIEW: the workgroup, the catalog entries of
        the database, the details table and each view, and the results location."""
        stack = Stack.of(self)
        database = self.settings.database_name
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:StopQueryExecution",
                ],
                resources=[
                    stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)
                ],
            )
        )
        tables = [*sqlsource.TABLES, *sqlsource.VIEWS]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:DeleteTable",
                ],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=database),
                    *(
                        stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{t}")
                        for t in tables
                    ),
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket"],
                resources=[self.query_results_bucket.bucket_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.query_results_bucket.arn_for_objects(f"{RESULTS_PREFIX}*")],
            )
        )
        acknowledge_nag_finding(
            role,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(self.query_results_bucket)}.Arn>/{RESULTS_PREFIX}*]",
            "Athena writes each statement's result object under the workgroup's results prefix, named by "
            "a query id known only at run time; the grant is limited to that prefix of its own bucket.",
        )

    def _acknowledge_provider(self, provider: cr.Provider, function: lambda_.Function) -> None:
        """The CDK's Provider framework function (it answers CloudFormation for the views function)
        is built by the CDK with the basic execution policy and a grant to invoke the function's
        versions; neither is ours to narrow."""
        framework = provider.node.find_child("framework-onEvent")
        acknowledge_nag_finding(
            framework,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK custom-resource Provider framework creates its own function role with the managed "
            "basic execution policy (CloudWatch Logs writes); it runs only during deployments.",
        )
        acknowledge_nag_finding(
            framework,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(function)}.Arn>:*]",
            "The Provider framework may invoke any version or alias of the one views function it fronts "
            "(lambda:InvokeFunction on <arn>:*); no other function is reachable.",
        )


def table_columns_fingerprint() -> str:
    """A digest of the tables' columns (names and Hive types): the details table's, the flat compacted
    datasets' and the lookups'."""
    tables = [
        schema.columns(),
        *(schema.columns(flat.row) for flat in sqlsource.FLAT.values()),
        *(schema.columns(entity) for entity in schema.LOOKUP_ENTITIES.values()),
    ]
    return hashlib.sha256(json.dumps(tables).encode("utf-8")).hexdigest()[:16]


def _logical_id(construct: Construct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as cdk-nag names it in findings."""
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(cast(CfnElement, construct.node.default_child))))
