"""Azure backend: Storage, Azure Machine Learning (MLflow, compute, jobs, endpoints), ACR."""
