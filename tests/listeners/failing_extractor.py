"""An OpenLineage custom extractor (``[openlineage] extractors``) for SQLExecuteQueryOperator that
raises when constructed — outside the provider's own try/except — with a secret in its message,
for tests/listeners/test_openlineage.py: the listener must survive it and scrub what it logs."""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor


class FailingExtractor(BaseExtractor):
    def __init__(self, operator: Any) -> None:
        raise RuntimeError("catalog refused: password=hunter2")

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["SQLExecuteQueryOperator"]

    def _execute_extraction(self) -> None:
        return None
