// The page's banners and status: simulated data, connection state, errors.

import { $ } from './dom.js';
import { state } from './state.js';

/** Says, once and for good, that the data is simulated. */
export function setSimulated(on) {
  if (!on || state.simulated) return;
  state.simulated = true;
  $('sim-banner').hidden = false;
  document.title = 'tickmesh · SIMULATED data';
}

export function setStatus(kind, text) {
  const node = $('status');
  node.className = `status status-${kind}`;
  node.textContent = text;
}

/** Shows `text` in the error banner; undefined hides it. */
export function showError(text) {
  const node = $('error-banner');
  node.hidden = text === undefined;
  node.textContent = text ?? '';
}
