import { describe, expect, it } from 'vitest';
import { proxyFor } from './proxy-rule.js';

const settings = { httpsProxy: 'http://proxy.corp:3128', httpProxy: 'proxy.corp:8080' };
const via = (url: string, noProxy?: string) =>
  proxyFor(new URL(url), { ...settings, ...(noProxy !== undefined ? { noProxy } : {}) })?.href;

describe('proxyFor', () => {
  it('takes HTTPS_PROXY for https and wss, HTTP_PROXY for http and ws', () => {
    expect(via('wss://stream.binance.com:9443/ws')).toBe('http://proxy.corp:3128/');
    expect(via('https://api.binance.com/api/v3/historicalTrades')).toBe('http://proxy.corp:3128/');
    expect(via('ws://127.0.0.1:9000/')).toBe('http://proxy.corp:8080/');
    expect(proxyFor(new URL('wss://x.example'), { httpProxy: 'http://p:1' })).toBeUndefined();
  });

  it('bypasses NO_PROXY hosts: names with their subdomains, host:port, IPs, CIDRs and *', () => {
    expect(via('wss://ws-feed.exchange.coinbase.com', 'coinbase.com')).toBeUndefined();
    expect(via('wss://ws-feed.exchange.coinbase.com', '.coinbase.com')).toBeUndefined();
    expect(via('wss://ws-feed.exchange.coinbase.com', '*.coinbase.com')).toBeUndefined();
    expect(via('wss://notcoinbase.com', 'coinbase.com')).toBe('http://proxy.corp:3128/');
    expect(via('wss://ws.kraken.com', 'localhost, 10.0.0.0/8')).toBe('http://proxy.corp:3128/');
    expect(via('ws://10.2.3.4:9000', 'localhost, 10.0.0.0/8')).toBeUndefined();
    expect(via('ws://10.2.3.4:9000', '10.2.3.4')).toBeUndefined();
    expect(via('wss://ws.okx.com:8443', 'ws.okx.com:8443')).toBeUndefined();
    expect(via('wss://ws.okx.com', 'ws.okx.com:8443')).toBe('http://proxy.corp:3128/');
    expect(via('wss://[::1]:9443', '::1')).toBeUndefined();
    expect(via('wss://anything.example', '*')).toBeUndefined();
    expect(via('wss://anything.example', '')).toBe('http://proxy.corp:3128/');
  });
});
