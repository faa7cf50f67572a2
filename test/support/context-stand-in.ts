import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sharedData } from '../harness/shared-data.js';

/** One scripted answer of the stand-in. */
export interface StandInAnswer {
  readonly status?: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** A request the stand-in received: its path with the query, and when (ms). */
export interface StandInRequest {
  readonly url: string;
  readonly at: number;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * A local HTTP server standing in for CoinGecko, alternative.me and news sites: each path (without
 * the query) answers its scripted answers in order, then repeats the last one for ever; every
 * request is recorded, so that tests count them. Unknown paths answer 404.
 */
export class ContextStandIn {
  readonly requests: StandInRequest[] = [];
  private readonly scripts = new Map<string, StandInAnswer[]>();
  private server: Server | undefined;
  private port = 0;

  /** Sets what `path` answers from now on (replacing its script). */
  script(path: string, ...answers: StandInAnswer[]): this {
    this.scripts.set(path, [...answers]);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests whose path (without the query) is `path`. */
  hits(path: string): StandInRequest[] {
    return this.requests.filter((r) => r.url.split('?')[0] === path);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      this.requests.push({ url, at: Date.now(), headers: req.headers });
      const list = this.scripts.get(url.split('?')[0] as string);
      const answer = list === undefined ? { status: 404, body: 'not found' } : list.length > 1 ? list.shift() : list[0];
      res.writeHead(answer?.status ?? 200, answer?.headers ?? {});
      res.end(answer?.body ?? '');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A real sample of the shared reference data (../shared/data/reference-samples, never copied in). */
export function referenceSample(...parts: string[]): string {
  return readFileSync(sharedData('reference-samples', ...parts), 'utf8');
}

/** A real recorded payload kept in the repository (test/fixtures/<name>/, each with a SOURCE.md). */
export function recordedFixture(...parts: string[]): string {
  return readFileSync(new URL(`../fixtures/${parts.join('/')}`, import.meta.url), 'utf8');
}
