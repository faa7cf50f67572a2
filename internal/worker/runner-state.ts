/**
 * Where a partition run is in its life:
 *
 * - `running`: processing mail as it comes.
 * - `stopping`: stop() was called; the mail already queued is processed, then the final
 *   checkpoint is committed.
 * - `discarding`: stop({ discardQueued }) was called; the queued mail is dropped (whoever runs the
 *   partition next reads it again from the checkpoint's offset), then the final checkpoint.
 * - `abandoned`: the release was announced without waiting for the final checkpoint; the run
 *   commits nothing more (a commit already under way goes on) and drops its mail.
 *
 * A run that fails keeps the state it failed in: the worker tells an expected fence (the
 * partition was stopping when the new owner claimed it) from a lost partition by it.
 */
export type RunnerState = 'running' | 'stopping' | 'discarding' | 'abandoned';

export type RunnerEvent = 'stop' | 'stop-discarding' | 'abandon';

/** The state after `event`. A stop never undoes a discard or an abandonment. */
export function nextRunnerState(state: RunnerState, event: RunnerEvent): RunnerState {
  switch (event) {
    case 'stop':
      return state === 'running' ? 'stopping' : state;
    case 'stop-discarding':
      return state === 'abandoned' ? state : 'discarding';
    case 'abandon':
      return 'abandoned';
  }
}

/** The run skips the mail it takes: the next owner reads it again from the checkpoint. */
export function dropsMail(state: RunnerState): boolean {
  return state === 'discarding' || state === 'abandoned';
}
