/**
 * Which proxy, if any, a venue connection goes through: the rule of the HTTPS_PROXY, HTTP_PROXY
 * and NO_PROXY variables as curl and most HTTP clients read them. Pure: no I/O.
 */
export interface ProxySettings {
  /** Proxy for https:// and wss:// (HTTPS_PROXY), e.g. http://proxy.corp:3128. */
  readonly httpsProxy?: string;
  /** Proxy for http:// and ws:// (HTTP_PROXY). */
  readonly httpProxy?: string;
  /**
   * Hosts reached directly (NO_PROXY): comma- or space-separated host names (matching the host
   * and its subdomains; a leading dot or `*.` is the same), host:port, IP addresses, IPv4 CIDRs,
   * or `*` for every host.
   */
  readonly noProxy?: string;
}

/** The proxy URL for `target`, or undefined to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? settings.httpsProxy : settings.httpProxy;
  if (!proxy) return undefined;
  if (bypasses(target, settings.noProxy ?? '')) return undefined;
  return new URL(proxy.includes('://') ? proxy : `http://${proxy}`);
}

function bypasses(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' || target.protocol === 'wss:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      if (entry.includes('/')) return inCidr(host, entry);
      let pattern = entry;
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m && !entry.startsWith('[') && (m[1] ?? '').split(':').length === 1) {
        if (m[2] !== port) return false;
        pattern = m[1] ?? '';
      }
      pattern = pattern.replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
      return host === pattern || host.endsWith(`.${pattern}`);
    });
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inCidr(host: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const ip = ipv4(host);
  const net = ipv4(base);
  const bits = Number(bitsText);
  if (ip === undefined || net === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(net / size);
}
