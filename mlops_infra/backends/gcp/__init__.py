"""GCP backend: Cloud Storage, Cloud Run, Vertex AI, Workflows, Artifact Registry."""
