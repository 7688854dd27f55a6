"""Prefect flows: thin wrappers that sequence the steps in `curriculum.steps`."""
