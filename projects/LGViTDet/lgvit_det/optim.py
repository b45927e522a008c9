"""Detector parameter groups: the runtime's one builder (:func:`lgvit_engine.param_groups`), under the
name the detection configs use."""

from lgvit_engine.optim import param_groups as detector_param_groups

__all__ = ["detector_param_groups"]
