"""AWS backend: S3, SageMaker (managed MLflow, training, pipelines, endpoints), ECR, IAM, KMS.

See ``README.md`` in this package for the flavors, the container contract and what is
knowingly left out. ``plugin`` (registration) imports no SDK; each implementation module
imports only the ``pulumi_aws`` submodules it uses.
"""
