// The REST side of the API (/api/v1), same origin.

/** GET `path` as JSON; a non-2xx answer throws with the server's message. */
export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}
