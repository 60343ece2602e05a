"""The Genesys credentials secret: imported by name or ARN, and the one way a function is let read it."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.config_formats import arn_region


class GenesysCredentials(Construct):
    """The secret `{"client_id", "client_secret"}` (docs/design.md, "Genesys credentials secret").

    Imported, never created here: the secret's value must not pass through a template. Every function
    that reads it gets its read grant from `grant_read`, so a customer-managed key's decrypt grant
    cannot be given to one reader and forgotten for another.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self._kms_key_arn = config.credentials_kms_key_arn
        if config.credentials_secret_arn is not None:
            self.secret = secretsmanager.Secret.from_secret_complete_arn(
                self, "Secret", config.credentials_secret_arn
            )
        else:
            assert config.credentials_secret_name is not None  # the config validator requires one of them
            self.secret = secretsmanager.Secret.from_secret_name_v2(
                self, "Secret", config.credentials_secret_name
            )

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """GetSecretValue on the secret and, for a secret under a customer-managed key, kms:Decrypt on
        that key on behalf of Secrets Manager in the key's region only: without it the read fails
        (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html)."""
        self.secret.grant_read(grantee)
        if self._kms_key_arn is None:
            return
        via_secrets_manager = f"secretsmanager.{arn_region(self._kms_key_arn)}.amazonaws.com"
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[self._kms_key_arn],
            conditions={"StringEquals": {"kms:ViaService": via_secrets_manager}},
        )
