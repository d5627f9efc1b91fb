/**
 * Matrix multiplication kernels. The provider agent answers PoPW challenges with the fastest kernel
 * it has (a GPU kernel where there is one; the CPU kernel otherwise); every kernel must return the
 * exact product of challenge matrices (see matrix.ts).
 */
import { checkSize } from "./matrix";

export interface MatmulKernel {
  /** Shown in answers and logs, e.g. "cpu-ikj". */
  readonly name: string;
  /** C = A * B for n x n row-major matrices. */
  multiply(a: Float64Array, b: Float64Array, n: number): Float64Array;
}

/** Throws unless `m` holds an n x n matrix. */
export function checkMatrix(name: string, m: Float64Array, n: number): void {
  if (m.length !== n * n) throw new RangeError(`matrix ${name} has ${m.length} entries, not ${n} x ${n}`);
}

/**
 * The CPU kernel: the i-k-j loop, which walks B and C row by row (unit stride in the inner loop, so
 * it stays in cache and the JIT keeps it tight). Single-threaded.
 */
export const cpuKernel: MatmulKernel = {
  name: "cpu-ikj",
  multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
    checkSize(n);
    checkMatrix("A", a, n);
    checkMatrix("B", b, n);
    const c = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let k = 0; k < n; k++) {
        const aik = a[row + k];
        if (aik === 0) continue;
        const bk = k * n;
        for (let j = 0; j < n; j++) c[row + j] += aik * b[bk + j];
      }
    }
    return c;
  },
};
