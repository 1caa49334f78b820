"""Data in small pieces with gaps: finds parsers that assume one read is one message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fracas.harness.faults.base import FaultValidationError, Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class Slicer(ToxicFault):
    kind = "slicer"
    toxic_type = "slicer"
    summary = "cut data into pieces of average_size ± size_variation bytes, delay_us apart"
    params_spec = (
        Param("average_size", "int", "mean piece size, in bytes", minimum=1, example=16),
        Param("size_variation", "int", "spread of the piece size, in bytes", default=0, minimum=0),
        Param("delay_us", "int", "gap between pieces, in MICROseconds", default=0, minimum=0),
        DIRECTION,
        TOXICITY,
    )

    @classmethod
    def check_together(cls, params: Mapping[str, Any]) -> None:
        if params["size_variation"] >= params["average_size"]:
            raise FaultValidationError(
                "params.size_variation",
                f"a whole number below average_size ({params['average_size']})",
                params["size_variation"],
                "Lower params.size_variation or raise params.average_size: pieces cannot be empty.",
            )

    def attributes(self) -> dict[str, Any]:
        return {
            "average_size": self.params["average_size"],
            "size_variation": self.params["size_variation"],
            "delay": self.params["delay_us"],
        }
