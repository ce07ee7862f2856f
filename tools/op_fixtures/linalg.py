"""Matrix products, per-matrix ops (determinant, inverse, diagonals, band parts) and Cross.

Matrices fed to inverses are well conditioned (identity plus a small random part, so TF's own
values are trustworthy at rtol 1e-3); determinants include negative ones and batch dims."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


def well_conditioned(rng, *shape, n):
    """[..., n, n] matrices n*I/2 + N(0, 1): condition numbers stay small, and a random row
    swap in half of them makes negative determinants."""
    m = normal(rng, *shape, n, n) + np.eye(n, dtype=np.float32) * (n / 2 + 1)
    flat = m.reshape(-1, n, n)
    for i in range(0, flat.shape[0], 2):
        flat[i] = flat[i][[1, 0] + list(range(2, n))]
    return flat.reshape(m.shape).astype(np.float32)


# --- MatMul / BatchMatMul with two computed operands

@case("matmul_two_inputs", "MatMul of two graph inputs (no constant weights)")
def _(rng):
    return (lambda a, b: tf.matmul(a, b)), [spec("a", edge_floats(rng, 4, 6)), spec("b", normal(rng, 6, 5))]


@case("matmul_transpose_a", "MatMul transpose_a = true on two inputs")
def _(rng):
    return (lambda a, b: tf.matmul(a, b, transpose_a=True)), [spec("a", edge_floats(rng, 6, 4)), spec("b", normal(rng, 6, 5))]


@case("matmul_transpose_b", "MatMul transpose_b = true on two inputs")
def _(rng):
    return (lambda a, b: tf.matmul(a, b, transpose_b=True)), [spec("a", edge_floats(rng, 4, 6)), spec("b", normal(rng, 5, 6))]


@case("matmul_transpose_ab", "MatMul transpose_a and transpose_b on two inputs")
def _(rng):
    return (lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True)), [spec("a", edge_floats(rng, 6, 4)), spec("b", normal(rng, 5, 6))]


@case("batch_matmul_v2_adj_x", "BatchMatMulV2 adj_x = true, rank 3")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b, adj_x=True)), [spec("a", edge_floats(rng, 2, 5, 3)), spec("b", normal(rng, 2, 5, 4))]


@case("batch_matmul_v2_adj_y", "BatchMatMulV2 adj_y = true, rank 4")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b, adj_y=True)), [spec("a", edge_floats(rng, 2, 3, 4, 5)), spec("b", normal(rng, 2, 3, 6, 5))]


@case("batch_matmul_v2_adj_xy", "BatchMatMulV2 adj_x and adj_y")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b, adj_x=True, adj_y=True)), [spec("a", edge_floats(rng, 3, 5, 2)), spec("b", normal(rng, 3, 4, 5))]


@case("batch_matmul_v2_broadcast", "BatchMatMulV2 broadcasting batch dims [2,1,3,4] x [5,4,2]")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b)), [spec("a", edge_floats(rng, 2, 1, 3, 4)), spec("b", normal(rng, 5, 4, 2))]


@case("batch_matmul_v2_rank2_rank3", "BatchMatMulV2 of a rank-2 by a rank-3 input")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b)), [spec("a", edge_floats(rng, 3, 4)), spec("b", normal(rng, 2, 4, 5))]


@case("batch_matmul_v2_int32", "BatchMatMulV2 on int32 inputs (exact small products)")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMulV2(x=a, y=b)), [spec("a", ints(rng, -20, 20, 2, 3, 4)), spec("b", ints(rng, -20, 20, 2, 4, 5))]


@case("batch_matmul_v1", "BatchMatMul (v1, equal batch dims) with adj_y")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMul(x=a, y=b, adj_y=True)), [spec("a", edge_floats(rng, 2, 3, 4)), spec("b", normal(rng, 2, 5, 4))]


@case("batch_matmul_v1_adj_x", "BatchMatMul (v1) with adj_x")
def _(rng):
    return (lambda a, b: tf.raw_ops.BatchMatMul(x=a, y=b, adj_x=True)), [spec("a", edge_floats(rng, 2, 4, 3)), spec("b", normal(rng, 2, 4, 5))]


@case("batch_matmul_const_weights_transposed", "rank-3 x times a constant [out, in] matrix, transpose_b (BatchMatMulV2 adj_y)")
def _(rng):
    w = tf.constant(normal(rng, 5, 4))
    return (lambda x: tf.matmul(x, w, transpose_b=True)), [spec("x", edge_floats(rng, 2, 3, 4))]


# --- Einsum

@case("einsum_sum_first", "Einsum abc,cd->ad: b is summed away before the product")
def _(rng):
    return (lambda a, b: tf.einsum("abc,cd->ad", a, b)), [spec("a", edge_floats(rng, 2, 3, 4)), spec("b", normal(rng, 4, 5))]


@case("einsum_sum_first_both", "Einsum abc,cde->ad: b and e are summed away in their operands first")
def _(rng):
    return (lambda a, b: tf.einsum("abc,cde->ad", a, b)), [spec("a", edge_floats(rng, 2, 3, 4)), spec("b", normal(rng, 4, 5, 3))]


@case("einsum_sum_first_b", "Einsum ab,bcd->ac: d is summed away in the second operand")
def _(rng):
    return (lambda a, b: tf.einsum("ab,bcd->ac", a, b)), [spec("a", edge_floats(rng, 3, 4)), spec("b", normal(rng, 4, 5, 2))]


@case("einsum_ellipsis_matmul", "Einsum ...ij,...jk->...ik with two batch dims")
def _(rng):
    return (lambda a, b: tf.einsum("...ij,...jk->...ik", a, b)), [spec("a", edge_floats(rng, 2, 3, 4, 5)), spec("b", normal(rng, 2, 3, 5, 2))]


@case("einsum_ellipsis_dense", "Einsum ...i,ij->...j (a dense layer over any leading dims)")
def _(rng):
    return (lambda a, b: tf.einsum("...i,ij->...j", a, b)), [spec("a", edge_floats(rng, 2, 3, 4)), spec("b", normal(rng, 4, 6))]


@case("einsum_transpose_out", "Einsum bij,bjk->bki (output transposed)")
def _(rng):
    return (lambda a, b: tf.einsum("bij,bjk->bki", a, b)), [spec("a", edge_floats(rng, 2, 3, 4)), spec("b", normal(rng, 2, 4, 5))]


# --- Determinants

@case("matrix_determinant_2x2_batch", "MatrixDeterminant of [3, 2, 2] (negative and zero determinants)")
def _(rng):
    x = edge_floats(rng, 3, 2, 2)
    x[0] = [[1.0, 2.0], [2.0, 4.0]]  # singular: 0
    x[1] = [[0.5, -1.5], [2.5, 1.0]]
    return (lambda x: tf.linalg.det(x)), [spec("x", x)]


@case("matrix_determinant_3x3_batch", "MatrixDeterminant of [2, 2, 3, 3]")
def _(rng):
    return (lambda x: tf.linalg.det(x)), [spec("x", well_conditioned(rng, 2, 2, n=3))]


@case("matrix_determinant_4x4", "MatrixDeterminant of one 4x4 matrix (rank 2 in, scalar out)")
def _(rng):
    return (lambda x: tf.linalg.det(x)), [spec("x", well_conditioned(rng, n=4)[None][0])]


@case("matrix_determinant_4x4_batch", "MatrixDeterminant of [3, 4, 4]")
def _(rng):
    return (lambda x: tf.linalg.det(x)), [spec("x", well_conditioned(rng, 3, n=4))]


@case("matrix_determinant_5x5_batch", "MatrixDeterminant of [2, 5, 5] (120 Leibniz terms)")
def _(rng):
    return (lambda x: tf.linalg.det(x)), [spec("x", well_conditioned(rng, 2, n=5))]


@case("log_matrix_determinant_3x3", "LogMatrixDeterminant: sign and log|det| of [4, 3, 3]")
def _(rng):
    return (lambda x: tf.linalg.slogdet(x)), [spec("x", well_conditioned(rng, 4, n=3))]


# --- Inverse

@case("matrix_inverse_2x2", "MatrixInverse of [3, 2, 2]")
def _(rng):
    return (lambda x: tf.linalg.inv(x)), [spec("x", well_conditioned(rng, 3, n=2))]


@case("matrix_inverse_3x3", "MatrixInverse of [2, 3, 3] (negative determinants)")
def _(rng):
    return (lambda x: tf.linalg.inv(x)), [spec("x", well_conditioned(rng, 2, n=3))]


@case("matrix_inverse_4x4_single", "MatrixInverse of one 4x4 matrix")
def _(rng):
    return (lambda x: tf.linalg.inv(x)), [spec("x", well_conditioned(rng, n=4))]


@case("matrix_inverse_adjoint_3x3", "MatrixInverse adjoint = true (inverse of the transpose)")
def _(rng):
    return (lambda x: tf.raw_ops.MatrixInverse(input=x, adjoint=True)), [spec("x", well_conditioned(rng, 2, n=3))]


# --- Band parts and diagonals

@case("matrix_band_part_1_2", "MatrixBandPart num_lower 1, num_upper 2 on [2, 4, 5]")
def _(rng):
    return (lambda x: tf.linalg.band_part(x, 1, 2)), [spec("x", edge_floats(rng, 2, 4, 5))]


@case("matrix_band_part_lower_all", "MatrixBandPart num_lower -1, num_upper 0 (lower triangle) on [5, 3]")
def _(rng):
    return (lambda x: tf.linalg.band_part(x, -1, 0)), [spec("x", edge_floats(rng, 5, 3))]


@case("matrix_band_part_upper_all", "MatrixBandPart num_lower 0, num_upper -1 (upper triangle), int64 bounds")
def _(rng):
    return (lambda x: tf.linalg.band_part(x, tf.constant(0, tf.int64), tf.constant(-1, tf.int64))), [spec("x", edge_floats(rng, 3, 4, 4))]


@case("matrix_band_part_int32", "MatrixBandPart on int32 values, bounds 0 and 1")
def _(rng):
    return (lambda x: tf.linalg.band_part(x, 0, 1)), [spec("x", ints(rng, -50, 50, 2, 3, 4))]


@case("matrix_diag", "MatrixDiag (v1 op) of [2, 4] vectors")
def _(rng):
    return (lambda v: tf.raw_ops.MatrixDiag(diagonal=v)), [spec("v", edge_floats(rng, 2, 4))]


@case("matrix_diag_v3", "MatrixDiagV3 k = 0 of [3, 2, 3]")
def _(rng):
    return (lambda v: tf.linalg.diag(v)), [spec("v", edge_floats(rng, 3, 2, 3))]


@case("matrix_diag_v3_k1_padding", "MatrixDiagV3 k = 1, padding 9 (a 4x4 matrix from 3 values)")
def _(rng):
    return (lambda v: tf.linalg.diag(v, k=1, padding_value=9.0)), [spec("v", edge_floats(rng, 2, 3))]


@case("matrix_diag_v3_band_sizes", "MatrixDiagV3 k = (-1, 1), num_rows 3, num_cols 4, RIGHT_LEFT")
def _(rng):
    return (lambda v: tf.linalg.diag(v, k=(-1, 1), num_rows=3, num_cols=4)), [spec("v", edge_floats(rng, 2, 3, 3))]


@case("matrix_diag_part", "MatrixDiagPart (v1 op) of square [2, 4, 4]")
def _(rng):
    return (lambda x: tf.raw_ops.MatrixDiagPart(input=x)), [spec("x", edge_floats(rng, 2, 4, 4))]


@case("matrix_diag_part_v3_wide", "MatrixDiagPartV3 k = 0 of a wide [3, 5] matrix")
def _(rng):
    return (lambda x: tf.linalg.diag_part(x)), [spec("x", edge_floats(rng, 3, 5))]


@case("matrix_diag_part_v3_band_left_right", "MatrixDiagPartV3 k = (-2, 1), padding -7, LEFT_RIGHT on [2, 4, 5]")
def _(rng):
    return (lambda x: tf.linalg.diag_part(x, k=(-2, 1), padding_value=-7.0, align="LEFT_RIGHT")), [spec("x", edge_floats(rng, 2, 4, 5))]


@case("matrix_diag_part_v3_k_neg1", "MatrixDiagPartV3 k = -1 of a tall [2, 5, 3]")
def _(rng):
    return (lambda x: tf.linalg.diag_part(x, k=-1)), [spec("x", edge_floats(rng, 2, 5, 3))]


@case("matrix_set_diag", "MatrixSetDiag (v1 op) on [2, 3, 4]")
def _(rng):
    return (lambda x, d: tf.raw_ops.MatrixSetDiag(input=x, diagonal=d)), [spec("x", edge_floats(rng, 2, 3, 4)), spec("d", normal(rng, 2, 3))]


@case("matrix_set_diag_v3", "MatrixSetDiagV3 k = 0 on a tall [4, 3]")
def _(rng):
    return (lambda x, d: tf.linalg.set_diag(x, d)), [spec("x", edge_floats(rng, 4, 3)), spec("d", normal(rng, 3))]


@case("matrix_set_diag_v3_band", "MatrixSetDiagV3 k = (0, 2), RIGHT_LEFT, on [2, 4, 4]")
def _(rng):
    return (lambda x, d: tf.linalg.set_diag(x, d, k=(0, 2))), [spec("x", edge_floats(rng, 2, 4, 4)), spec("d", normal(rng, 2, 3, 4))]


# --- Cross

@case("cross_3vectors", "Cross of [4, 3] vectors")
def _(rng):
    return (lambda a, b: tf.linalg.cross(a, b)), [spec("a", edge_floats(rng, 4, 3)), spec("b", normal(rng, 4, 3))]


@case("cross_batch", "Cross of [2, 3, 3] vectors")
def _(rng):
    return (lambda a, b: tf.linalg.cross(a, b)), [spec("a", edge_floats(rng, 2, 3, 3)), spec("b", edge_floats(rng, 2, 3, 3))]
