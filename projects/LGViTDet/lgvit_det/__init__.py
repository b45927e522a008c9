"""Detectron2 project for lgvit backbones."""
