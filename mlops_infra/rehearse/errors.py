"""The one error a rehearsal raises: which step broke which contract, and how."""

from __future__ import annotations

from mlops_infra.errors import MlopsError

__all__ = ["RehearsalError"]


class RehearsalError(MlopsError):
    """A step, the gate or the serving container broke its cloud's contract.

    Attributes:
        step: What failed: a pipeline step, ``gate <endpoint>`` or ``serve <endpoint>``.
        contract: The contract that broke (e.g. ``SageMaker training: input channel``).
        detail: What was missing or wrong, with the evidence (a log tail).
    """

    def __init__(self, step: str, contract: str, detail: str) -> None:
        """Creates the error."""
        self.step = step
        self.contract = contract
        self.detail = detail
        super().__init__(f"step {step!r}: {contract}: {detail}")


def unsupported(step: str, construct: str, where: str) -> RehearsalError:
    """The error for a construct of a generated definition the interpreter does not run."""
    return RehearsalError(
        step, "unsupported construct", f"{construct!r} at {where} is not interpreted by rehearse"
    )
