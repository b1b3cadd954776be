"""OpenLineage custom extractors (``[openlineage] extractors``) for SQLExecuteQueryOperator that
misbehave, for tests/listeners/test_openlineage.py: one raises when constructed (outside the
provider's own try/except) with a secret in its message, one takes too long. The listener must
survive both, scrub what it logs and keep to its time bound."""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor


class FailingExtractor(BaseExtractor):
    """Raises when constructed, with a secret in the message."""

    def __init__(self, operator: Any) -> None:
        raise RuntimeError("catalog refused: password=hunter2")

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["SQLExecuteQueryOperator"]

    def _execute_extraction(self) -> None:
        return None


class SlowExtractor(BaseExtractor):
    """Takes 5 s for any SQLExecuteQueryOperator, past the listener's extraction bound."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["SQLExecuteQueryOperator"]

    def _execute_extraction(self) -> None:
        return None

    def extract_on_complete(self, task_instance: Any) -> None:
        import time

        time.sleep(5)
