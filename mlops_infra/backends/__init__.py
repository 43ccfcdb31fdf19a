"""Backends: one package per cloud, the only place cloud SDKs or process code are imported.

Each package has a light ``plugin`` module (registered through the
``mlops_infra.backends`` entry-point group) that declares the cloud and its flavors
without importing the cloud's SDK; implementations are imported on first use. The cloud's
descriptor (``CLOUD`` in ``plugin``) also points at its policy pack (``policies/``) and at
what plans and diffs need to know of it (``plan``): nothing outside its package names it.
"""
