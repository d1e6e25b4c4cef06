/** Width of the model plot bounds: the Student-t quantile of the central interval. */
import { logStudentTail } from '../stats.ts';

/** Model plot bounds: the central 95% of the predictive distribution. */
export const MODEL_PLOT_TAIL = 0.025;

/** The z with an upper Student-t tail of `tail` (bisection; the model plot's bound width). */
export function studentQuantile(tail: number, nu: number): number {
  const target = Math.log(tail);
  let lo = 0;
  let hi = 1000;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (logStudentTail(mid, nu) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
