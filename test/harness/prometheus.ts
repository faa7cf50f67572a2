import { endpoint } from './env.js';

/** One sample of an instant vector, as Prometheus' HTTP API returns it. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query against the harness's Prometheus; throws with Prometheus' error. */
export async function queryPrometheus(promql: string): Promise<Sample[]> {
  const url = new URL('/api/v1/query', endpoint('PROMETHEUS_URL'));
  url.searchParams.set('query', promql);
  const res = await fetch(url);
  const body = (await res.json()) as {
    status: string;
    data?: { resultType: string; result: Sample[] };
    error?: string;
  };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? res.status}`);
  return body.data.result;
}
