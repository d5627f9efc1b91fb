/**
 * The step of a property walk (`test/helpers/model`, `test/helpers/popw`): a `fast-check` command
 * whose arguments are plain generated selectors, resolved against the model when it runs.
 */
import type fc from "fast-check";

/** What a walk's model keeps of its steps: the constructor call of each, in order. */
export interface Logged {
  log: string[];
}

/** `e` with the step that failed and every step so far (a regression test pastes them). */
export function withSteps(e: unknown, m: Logged): Error {
  const steps = m.log.map((l, i) => `  ${i + 1}. ${l}`).join("\n");
  const error = e instanceof Error ? e : new Error(String(e));
  error.message = `step ${m.log.length} failed: ${m.log[m.log.length - 1]}\n${error.message}\nsteps so far:\n${steps}`;
  return error;
}

/**
 * A step of a walk. Arguments are plain, generated selectors resolved against the model when the
 * step runs (`exec`); then `verify` checks the walk's invariants. `toString` prints a constructor
 * call that a regression test can paste.
 */
export abstract class WalkStep<M extends Logged, W> implements fc.AsyncCommand<M, W> {
  abstract readonly name: string;
  abstract readonly args: object;
  check(): boolean {
    return true; // every step runs: the model decides whether it must succeed or revert
  }
  async run(m: M, w: W): Promise<void> {
    m.log.push(this.toString());
    try {
      await this.exec(w, m);
      await this.verify(w, m);
    } catch (e) {
      throw withSteps(e, m);
    }
  }
  protected abstract exec(w: W, m: M): Promise<void>;
  protected abstract verify(w: W, m: M): Promise<void>;
  toString(): string {
    const json = JSON.stringify(this.args, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)).replace(
      /"(-?\d+)n"/g,
      "$1n",
    );
    return `new ${this.name}(${json})`;
  }
}

/** A rental id from a selector: newest rentals first; 1 in 16 is one past the last, 1 in 16 is 0. */
export function rentalId(m: { rentals: readonly unknown[] }, sel: number): bigint {
  const n = m.rentals.length;
  if (sel % 16 === 14) return 0n;
  if (sel % 16 === 15 || n === 0) return BigInt(n + 1);
  return BigInt(n - (sel % n));
}

/**
 * A walk's own `Step` (each step checks the walk's invariants with `verify` after it ran) and
 * `actionStep`, which makes a step that only calls one action with its arguments.
 */
export function walkSteps<M extends Logged, W>(verify: (w: W, m: M) => Promise<void>) {
  abstract class Step extends WalkStep<M, W> {
    protected verify(w: W, m: M): Promise<void> {
      return verify(w, m);
    }
  }
  const actionStep = <A extends object>(name: string, act: (w: W, m: M, a: A) => Promise<unknown>) =>
    class extends Step {
      readonly name = name;
      constructor(readonly args: A) {
        super();
      }
      protected async exec(w: W, m: M) {
        await act(w, m, this.args);
      }
    };
  return { Step, actionStep };
}
