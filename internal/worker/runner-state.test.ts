import { describe, expect, it } from 'vitest';
import { dropsMail, nextRunnerState, type RunnerEvent, type RunnerState } from './runner-state.js';

const through = (...events: RunnerEvent[]): RunnerState =>
  events.reduce<RunnerState>((state, event) => nextRunnerState(state, event), 'running');

describe('a partition run state', () => {
  it('stops with or without the queued mail', () => {
    expect(through('stop')).toBe('stopping');
    expect(through('stop-discarding')).toBe('discarding');
    expect(dropsMail(through('stop'))).toBe(false);
    expect(dropsMail(through('stop-discarding'))).toBe(true);
  });

  it('never takes back a discard: a later plain stop keeps dropping the mail', () => {
    expect(through('stop-discarding', 'stop')).toBe('discarding');
    expect(through('stop', 'stop-discarding')).toBe('discarding');
    expect(through('stop', 'stop')).toBe('stopping');
  });

  it('stays abandoned whatever comes after, and drops its mail', () => {
    expect(through('stop-discarding', 'abandon')).toBe('abandoned');
    expect(through('stop-discarding', 'abandon', 'stop')).toBe('abandoned');
    expect(through('stop-discarding', 'abandon', 'stop-discarding')).toBe('abandoned');
    expect(dropsMail('abandoned')).toBe(true);
    expect(dropsMail('running')).toBe(false);
  });
});
