/**
 * `n` doubles, each `value`, as a packed double array: the numbers unboxed in the V8 heap.
 *
 * For an actor's small buffers of state. A Float64Array of more than 64 bytes keeps its numbers
 * outside the heap, in a malloc'd store with V8's record of it, an ArrayBuffer and the view
 * around them: a few hundred bytes each beyond the numbers, much of it counted neither in the
 * heap nor in `external`, only in the resident set. Store only numbers in the result (anything
 * else turns its elements into boxed ones).
 */
export function doubles(n: number, value: number): number[] {
  // fill() of a fresh array with a double and slice() make a packed double array of exactly n
  // elements; a fill() of a Smi would make its elements Smis, so the value goes in one by one.
  const a = new Array<number>(n).fill(0.5).slice();
  for (let i = 0; i < n; i++) a[i] = value;
  return a;
}
