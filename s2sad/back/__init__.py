"""Derivative IR to a Python function: the optimizer, the emitter, compilation."""
