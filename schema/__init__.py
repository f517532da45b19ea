"""Strawberry types, inputs and enums, and the assembled schema. Declarations only."""
