"""Local backend: real processes and files on this machine (MLflow, runners, model servers)."""
