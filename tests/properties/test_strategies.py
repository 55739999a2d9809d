"""theorycheck.properties.strategies: the public front door and the invariants of each strategy."""

import ast
from pathlib import Path

import numpy as np
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theorycheck.properties import strategies
from theorycheck.properties.strategies import psd_matrices, quadratics, spectra


def test_all_lists_exactly_the_public_names():
    tree = ast.parse(Path(strategies.__file__).read_text())
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert sorted(strategies.__all__) == sorted(imported)


@given(psd_matrices(d=st.integers(1, 5)))
def test_psd_matrices_are_symmetric_psd(a):
    assert np.allclose(a, a.T)
    assert np.linalg.eigvalsh(a).min() > -1e-9 * max(1.0, np.abs(a).max())


@given(psd_matrices(d=4, spectrum="rank_deficient"))
def test_rank_deficient_spectra_have_a_null_direction(a):
    assert np.linalg.matrix_rank(a, tol=1e-9 * np.abs(a).max()) < 4


@given(spectra(4, "ill_conditioned"))
def test_ill_conditioned_spectra(eig):
    assert eig[0] / eig[-1] >= 1e6


@given(quadratics())
def test_quadratics_are_exact_positive_definite(q):
    loss, theta0 = q
    A = loss.hessian
    assert all(isinstance(x, sp.Rational) for x in A)
    assert A == A.T
    assert np.linalg.eigvalsh(np.array(A, dtype=float)).min() > 0
    assert len(theta0) == loss.dim
