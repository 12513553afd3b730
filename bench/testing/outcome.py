"""What a check says: its status, the report of every check, the error that names them."""

from __future__ import annotations

from dataclasses import dataclass

PASSED, FAILED, NOT_APPLICABLE, SKIPPED = "passed", "failed", "not applicable", "skipped"



@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``status`` is passed, failed, not applicable or skipped."""

    name: str
    status: str
    message: str = ""


class SelectorCheckError(AssertionError):
    """Raised when a selector fails checks; the message says which ones and why.

    Attributes
    ----------
    estimator_name : str
    failures : dict of str to str
        Check name to the reason it failed.
    """

    def __init__(self, estimator_name: str, failures: dict, n_checks: int | None = None):
        self.estimator_name = estimator_name
        self.failures = dict(failures)
        of = "" if n_checks is None else f" of {n_checks}"
        lines = [f"{estimator_name} failed {len(self.failures)}{of} selector check(s):"]
        lines += [f"  - {name}: {why}" for name, why in self.failures.items()]
        super().__init__("\n".join(lines))


class SelectorCheckReport:
    """Every check's outcome for one selector, as :func:`check_selector` returns it.

    Attributes
    ----------
    estimator_name : str
    results : dict of str to CheckResult
        In the order of :data:`CHECKS`.
    """

    def __init__(self, estimator_name: str, results: dict):
        self.estimator_name = estimator_name
        self.results = dict(results)

    @property
    def failures(self) -> dict:
        """Check name to the reason, for the checks that failed."""
        return {n: r.message for n, r in self.results.items() if r.status == FAILED}

    def raise_for_failures(self) -> None:
        """Raise :class:`SelectorCheckError` naming every failed check, if any failed."""
        ran = sum(r.status in (PASSED, FAILED) for r in self.results.values())
        if self.failures:
            raise SelectorCheckError(self.estimator_name, self.failures, ran)

    def assert_passed(self, name: str) -> None:
        """Raise :class:`SelectorCheckError` unless check ``name`` ran and passed."""
        result = self.results[name]
        if result.status == FAILED:
            raise SelectorCheckError(self.estimator_name, {name: result.message})
        if result.status != PASSED:
            raise SelectorCheckError(
                self.estimator_name, {name: f"did not run ({result.status}: {result.message})"})

    def __str__(self) -> str:
        width = max(len(n) for n in self.results)
        lines = [f"selector checks of {self.estimator_name}:"]
        for name, r in self.results.items():
            tail = f"  {r.message}" if r.message and r.status != PASSED else ""
            lines.append(f"  {name:<{width}}  {r.status}{tail}")
        return "\n".join(lines)


class _Fail(Exception):
    """A check failed; the message says why, for the user."""


class _NotApplicable(Exception):
    """The check does not concern this selector; the message says why."""


