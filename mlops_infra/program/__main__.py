"""Entry point the Pulumi language host runs (``main: mlops_infra/program`` in Pulumi.yaml)."""

from mlops_infra.program import main

main()
