"""``asm-advisor plan``: a ready-to-apply sidecar-to-ambient migration plan with estimates."""

from __future__ import annotations

from asm_mode_advisor.plan.build import PlanSettings, build_plan
from asm_mode_advisor.plan.model import Plan

__all__ = ["Plan", "PlanSettings", "build_plan"]
