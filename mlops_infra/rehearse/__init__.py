"""Rehearse a cloud stack here: its generated pipeline, training and serving contracts.

``mlops-infra rehearse --stack S`` captures what ``pulumi up`` would deploy for ``S`` (the
program run offline, under mocks), then runs it on this machine: each step of the
generated pipeline definition with its cloud's container contract, storage through an
emulator of the cloud's object store, the promotion gate with the code ``up`` runs, and
the serving container answering one prediction. Each cloud's interpreter lives with its
backend and is found by cloud name (:mod:`mlops_infra.rehearse.registry`).
"""

from mlops_infra.rehearse.context import Faults, RehearsalContext
from mlops_infra.rehearse.errors import RehearsalError
from mlops_infra.rehearse.report import Report, StepTiming
from mlops_infra.rehearse.run import rehearse

__all__ = ["Faults", "RehearsalContext", "RehearsalError", "Report", "StepTiming", "rehearse"]
