"""Hypothesis strategies (:mod:`theorycheck.properties.strategies`) and property suites for theorycheck."""
