"""Tests of the AWS backend (under Pulumi mocks, against pulumi_aws's own types)."""
