"""Tiered curriculum learning: verified maths and logic items, validated tiers, adaptive difficulty."""

__version__ = "0.1.0"
