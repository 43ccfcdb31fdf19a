"""``python -m mlops_infra.cli``: the same as the ``mlops-infra`` command."""

from mlops_infra.cli import run

run()
