"""Benchmarks and fault drills: figures printed beside their targets, never CI failures."""
