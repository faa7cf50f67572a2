// The REST side of the API (/api/v1), same origin.

const KEY_STORE = 'tickmesh.apiKey';

/**
 * The API key, when the API has keys on: from the page's URL (`/?api_key=<key>`) or the one
 * entered in the key form for this tab. Sent as a Bearer header over REST, as the same
 * parameter on the WebSocket (a browser's cannot have headers).
 */
export const apiKey =
  new URLSearchParams(location.search).get('api_key') ?? sessionStorage.getItem(KEY_STORE) ?? undefined;

/** Keeps `key` for this tab and loads the page again with it. */
export function useKey(key) {
  sessionStorage.setItem(KEY_STORE, key);
  const url = new URL(location.href);
  url.searchParams.delete('api_key');
  location.replace(url);
}

/** An answer other than 2xx, with its status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET `path` as JSON; a non-2xx answer throws ApiError with the server's message. */
export async function getJson(path) {
  const headers = { accept: 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const res = await fetch(path, { headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** The API's route paths (from its OpenAPI document); undefined when it does not say. */
let routes;

export async function loadRoutes() {
  try {
    routes = new Set(Object.keys((await getJson('/api/v1/openapi.json')).paths ?? {}));
  } catch {
    routes = undefined;
  }
}

/**
 * GET a route this API may not have (an older or newer server): undefined when it is not in its
 * OpenAPI document or answers 404, so that the part of the page that needs it can hide quietly.
 */
export async function getOptional(path) {
  if (routes !== undefined && !routes.has(path.split('?')[0])) return undefined;
  try {
    return await getJson(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** `path?params` with the undefined params left out. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return `${path}?${q}`;
}
