"""AWS backend: S3, SageMaker (managed MLflow, training, pipelines, endpoints), ECR, IAM, KMS."""
