"""The Pulumi program of this project: the stack's config becomes an MLOps stack.

Pulumi runs this file for every stack in ``stacks/`` (``Pulumi.yaml`` has no ``main``,
so the program is the project folder). A project of your own needs only this file,
``Pulumi.yaml`` and its stack files.
"""

from mlops_infra.program import main

main()
