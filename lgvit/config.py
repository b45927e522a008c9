"""Moved to :mod:`lgvit_engine.config` (the training runtime's config loader); this alias remains only
until the video trainer runs on lgvit_engine, then it is deleted. ``import lgvit`` never imports it."""

from lgvit_engine.config import *  # noqa: F403
from lgvit_engine.config import ConfigError, apply_overrides, instantiate, load_config, save_config  # noqa: F401
