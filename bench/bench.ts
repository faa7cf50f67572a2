/**
 * The contract of a benchmark file: `bench/<name>.bench.ts` default-exports a Bench. The runner
 * (bench/run.ts) imports each, runs it once and prints its results with the machine they ran on.
 */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Context that makes the figure reproducible: sizes, counts, settings. */
  readonly details?: Readonly<Record<string, string | number>>;
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  run(options: { readonly quick: boolean }): Promise<readonly BenchResult[]>;
}
