"""Linear solves (rules/solve.rules): MatrixSolve and MatrixTriangularSolve with each of lower
/ upper and adjoint, batch dims and broadcasting, several right-hand sides; and systems too large for the adjugate, which must be refused.
Matrices are well conditioned (linalg.py's recipe) so TF's own values are trustworthy; the
triangle a triangular solve ignores holds large garbage, to show it is ignored."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec


def well_conditioned(rng, *shape, n):
    """[..., n, n] matrices (n/2 + 1) I + N(0, 1), as linalg.py's (not imported, so that
    `--family solve` regenerates only these cases); a row swap in every other one makes
    negative determinants."""
    m = normal(rng, *shape, n, n) + np.eye(n, dtype=np.float32) * (n / 2 + 1)
    flat = m.reshape(-1, n, n)
    for i in range(0, flat.shape[0], 2):
        flat[i] = flat[i][[1, 0] + list(range(2, n))]
    return flat.reshape(m.shape).astype(np.float32)


def _triangular(rng, *batch, n, lower):
    """Diagonally dominant triangle (signs mixed), with junk in the other triangle."""
    m = normal(rng, *batch, n, n)
    diag = (rng.uniform(1.5, 3.0, size=(*batch, n)) * rng.choice([-1.0, 1.0], size=(*batch, n))).astype(np.float32)
    idx = np.arange(n)
    m[..., idx, idx] = diag
    junk = np.triu(np.ones((n, n)), 1) if lower else np.tril(np.ones((n, n)), -1)
    return (m + junk * 1000.0).astype(np.float32)


@case("matrix_solve_3x3", "MatrixSolve of [2, 3, 3] with [2, 3, 4] right-hand sides")
def _(rng):
    return (lambda a, b: tf.linalg.solve(a, b)), [spec("a", well_conditioned(rng, 2, n=3)), spec("b", normal(rng, 2, 3, 4))]


@case("matrix_solve_adjoint_4x4", "MatrixSolve adjoint = true of one 4x4 system, 2 right-hand sides")
def _(rng):
    return (lambda a, b: tf.linalg.solve(a, b, adjoint=True)), [spec("a", well_conditioned(rng, n=4)), spec("b", normal(rng, 4, 2))]


@case("matrix_solve_2x2_batch", "MatrixSolve of [2, 3, 2, 2] with one right-hand side each")
def _(rng):
    return (lambda a, b: tf.linalg.solve(a, b)), [spec("a", well_conditioned(rng, 2, 3, n=2)), spec("b", normal(rng, 2, 3, 2, 1))]


@case("matrix_solve_6x6_refused", "MatrixSolve of a 6x6 system: beyond the adjugate inverse, refused",
      refused="no conversion")
def _(rng):
    return (lambda a, b: tf.linalg.solve(a, b)), [spec("a", well_conditioned(rng, n=6)), spec("b", normal(rng, 6, 2))]


def _tri(name, batch, n, k, lower, adjoint, bbatch=None):
    def build(rng):
        a = _triangular(rng, *batch, n=n, lower=lower)
        b = normal(rng, *(batch if bbatch is None else bbatch), n, k)
        return (lambda a, b: tf.linalg.triangular_solve(a, b, lower=lower, adjoint=adjoint)), [spec("a", a), spec("b", b)]
    desc = f"MatrixTriangularSolve lower = {lower}, adjoint = {adjoint}, A {list(batch) + [n, n]}, B {list(batch if bbatch is None else bbatch) + [n, k]}"
    case(name, desc)(build)


_tri("triangular_solve_lower", (2,), 4, 3, True, False)
_tri("triangular_solve_upper", (2,), 3, 2, False, False)
_tri("triangular_solve_lower_adjoint", (), 4, 2, True, True)
_tri("triangular_solve_upper_adjoint", (3,), 2, 5, False, True)
_tri("triangular_solve_broadcast", (1,), 3, 2, True, False, bbatch=(2,))



def _spd(rng, *batch, n):
    """Symmetric positive definite matrices B B^T + n I (conditioned well), with junk above the
    diagonal, which TF's Cholesky never reads."""
    b = normal(rng, *batch, n, n)
    m = b @ np.swapaxes(b, -1, -2) + n * np.eye(n, dtype=np.float32)
    return (m + np.triu(np.ones((n, n)), 1) * 77.0).astype(np.float32)


@case("cholesky_3x3_batch", "Cholesky of [2, 3, 3] (upper triangle holds junk)")
def _(rng):
    return (lambda a: tf.linalg.cholesky(a)), [spec("a", _spd(rng, 2, n=3))]


@case("cholesky_1x1", "Cholesky of [4, 1, 1]")
def _(rng):
    return (lambda a: tf.linalg.cholesky(a)), [spec("a", _spd(rng, 4, n=1))]


@case("cholesky_6x6", "Cholesky of one 6x6 matrix")
def _(rng):
    return (lambda a: tf.linalg.cholesky(a)), [spec("a", _spd(rng, n=6))]


@case("cholesky_9x9_refused", "Cholesky of a 9x9 matrix: beyond the unrolled n <= 8, refused",
      refused="no conversion")
def _(rng):
    return (lambda a: tf.linalg.cholesky(a)), [spec("a", _spd(rng, n=9))]


_tri("triangular_solve_lower_8x8", (), 8, 2, True, False)
_tri("triangular_solve_upper_adjoint_6x6", (2,), 6, 3, False, True)
_tri("triangular_solve_upper_7x7_broadcast", (2, 1), 7, 1, False, False, bbatch=(2, 3))
_tri("triangular_solve_broadcast_a", (3,), 4, 2, False, False, bbatch=(1,))
