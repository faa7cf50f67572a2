import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { type ProxySettings, proxyFor } from './proxy-rule.js';

/**
 * Venue connections through an HTTP proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY): the WebSocket
 * upgrade and the REST calls both open a CONNECT tunnel through the proxy, TLS to the venue
 * inside it, so the proxy sees host and port only. Hosts that NO_PROXY names are reached directly.
 */
export interface ProxyTransport {
  /** The agent for a venue WebSocket: a CONNECT tunnel, or undefined to connect directly. */
  agentFor(url: URL): Agent | undefined;
  /** fetch for the venues' REST APIs (backfill), through the proxy where the rule says so. */
  readonly fetch: typeof fetch;
}

/** A transport when a proxy is configured, undefined otherwise. */
export function createProxyTransport(settings: ProxySettings): ProxyTransport | undefined {
  if (!settings.httpsProxy && !settings.httpProxy) return undefined;
  const dispatchers = new Map<string, ProxyAgent>();
  const dispatcherFor = (proxy: URL): ProxyAgent => {
    let d = dispatchers.get(proxy.href);
    if (!d) {
      d = new ProxyAgent({ uri: proxy.href });
      dispatchers.set(proxy.href, d);
    }
    return d;
  };
  const proxiedFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const proxy = proxyFor(url, settings);
    if (!proxy) return fetch(input, init);
    // undici's own fetch: the dispatcher option belongs to the undici that defines ProxyAgent.
    const call = undiciFetch as unknown as (
      i: typeof input,
      o: RequestInit & { dispatcher: ProxyAgent },
    ) => Promise<Response>;
    return call(input, { ...init, dispatcher: dispatcherFor(proxy) });
  };
  return {
    agentFor(url) {
      const proxy = proxyFor(url, settings);
      // One agent per connection: an upgraded socket never returns to a pool.
      return proxy ? new HttpsProxyAgent(proxy, { keepAlive: false }) : undefined;
    },
    fetch: proxiedFetch as typeof fetch,
  };
}
