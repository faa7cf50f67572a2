/**
 * The lifecycle every long-lived part of tickmesh has. Only cmd/ handles process signals;
 * it turns SIGTERM into drain() and a second signal (or the grace period) into close().
 */
export interface Component {
  /** Begin work. Resolves once the component is running; aborting `signal` is equivalent to close(). */
  start(signal: AbortSignal): Promise<void>;
  /** Finish in-flight work, commit what must be committed, then release resources. */
  drain(): Promise<void>;
  /** Stop now; in-flight work is abandoned (and redone by whoever resumes from the last commit). */
  close(): Promise<void>;
}
