// The REST side of the API (/api/v1), same origin.

/**
 * The API key the page was opened with (`/?api_key=<key>`), when the API has keys on: sent as
 * a Bearer header over REST, as the same parameter on the WebSocket (a browser's cannot have headers).
 */
export const apiKey = new URLSearchParams(location.search).get('api_key') ?? undefined;

/** GET `path` as JSON; a non-2xx answer throws with the server's message. */
export async function getJson(path) {
  const headers = { accept: 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const res = await fetch(path, { headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}
