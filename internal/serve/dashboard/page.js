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

/** Shows or hides a panel that depends on an optional route. */
export function showPanel(id, on) {
  $(id).hidden = !on;
}

/** Asks for an API key; `onKey(key)` gets what the user enters. */
export function askForKey(onKey) {
  const form = $('key-form');
  form.hidden = false;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('key-input').value.trim();
    if (key) onKey(key);
  });
  $('key-input').focus();
}
