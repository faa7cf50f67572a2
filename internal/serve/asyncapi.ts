import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_KEY_PARAM } from './api-auth.js';
import type { ApiConfig } from './api-config.js';
import { apiResponses, INFO_RESPONSE, type JsonSchema, responseComponents } from './response-schemas.js';
import { streamRequestSchema } from './stream-request.js';
import { CLOSE_POLICY, CLOSE_TOO_SLOW } from './stream-session.js';

/** Where the document is served. */
export const ASYNCAPI_PATH = '/api/v1/asyncapi.json';
const STREAM_PATH = '/api/v1/stream';

/** Every close code the server sends, and why (RFC 6455 meanings). */
export const CLOSE_CODES: Readonly<Record<number, string>> = {
  1001: 'the server is shutting down (SIGTERM): reconnect and subscribe again',
  [CLOSE_POLICY]: 'policy violation: more client messages a second than allowed, or over the connections per address',
  1009: 'a client message larger than allowed',
  1011: "a bus subscription failed on the server's side",
  [CLOSE_TOO_SLOW]: 'too slow: the client left too much unread for too long, or sent while over that bound',
};

/** `X#` (a Fastify shared schema) as `#/components/schemas/X`, `$id` dropped, everywhere in `schema`. */
function toComponentRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toComponentRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$id') continue;
    out[k] =
      k === '$ref' && typeof v === 'string' && v.endsWith('#')
        ? `#/components/schemas/${v.slice(0, -1)}`
        : toComponentRefs(v);
  }
  return out;
}

/**
 * The client message's JSON schema, from the zod schema the stream validates with. zod writes the
 * preprocessed fields as what they become (a list of filters, a filter object); the protocol also
 * takes one filter for a list, and `true`/`false` for an alerts or index filter.
 */
export function subscribeMessageSchema(config: Pick<ApiConfig, 'intervals'>): JsonSchema {
  const json = z.toJSONSchema(streamRequestSchema(config.intervals), {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
  }) as unknown as {
    $schema?: string;
    properties: { subscribe: { properties: Record<string, Record<string, unknown>> } };
  };
  delete json.$schema;
  const fields = json.properties.subscribe.properties;
  for (const name of ['candles', 'indicators', 'verification'] as const) {
    const list = fields[name];
    if (list) fields[name] = { oneOf: [list.items, list], description: 'one filter or a list of them' };
  }
  for (const name of ['alerts', 'index'] as const) {
    const filter = fields[name];
    if (filter) fields[name] = { oneOf: [{ type: 'boolean', description: 'true: everything' }, filter] };
  }
  return json;
}

const closed = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const typed = (type: string, properties: Record<string, unknown>, required = Object.keys(properties)) =>
  closed({ type: { const: type }, ...properties }, ['type', ...required]);

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A bus message forwarded: its subject and its payload as published. */
const forwarded = (type: string, data: unknown, summary: string) => ({
  name: type,
  summary,
  payload: typed(type, { subject: { type: 'string', description: 'the NATS subject it came on' }, data }),
});

/**
 * The WebSocket protocol of /api/v1/stream as an AsyncAPI 3.0 document: what a client sends
 * (the subscribe schema of stream-request.ts) and every message the server sends, with the
 * records of response-schemas.ts. Operations are from the server's side: it receives
 * `subscribe`, it sends the rest.
 */
export function asyncApiDocument(config: Pick<ApiConfig, 'intervals' | 'stream'>): Record<string, unknown> {
  const components = Object.fromEntries(
    responseComponents().map((s) => [s.$id as string, toComponentRefs(s)]),
  ) as Record<string, { properties: Record<string, unknown>; required: string[] }>;
  const candle = components.Candle as { properties: Record<string, unknown>; required: string[] };
  const info = toComponentRefs(INFO_RESPONSE) as { properties: Record<string, unknown> };
  const { name: _name, stream: _stream, time: _time, retention: _retention, ...helloFields } = info.properties;
  const messages = {
    subscribe: {
      name: 'subscribe',
      summary: 'Replaces the connection\'s subscription; `{"subscribe": {}}` stops everything.',
      payload: subscribeMessageSchema(config),
      examples: [
        {
          payload: {
            subscribe: { candles: { interval: config.intervals[0] ?? '1m', exchange: '*', symbol: '*' }, alerts: true },
          },
        },
      ],
    },
    hello: { name: 'hello', summary: 'Sent on connect: what /api/v1/info says.', payload: typed('hello', helloFields) },
    subscribed: {
      name: 'subscribed',
      summary: 'After a valid subscribe: the bus subjects now followed.',
      payload: typed('subscribed', { subjects: { type: 'array', items: { type: 'string' } } }),
    },
    error: {
      name: 'error',
      summary: `After an invalid, binary or too large a subscribe (over ${config.stream.maxSubscriptions} subjects); the connection stays open.`,
      payload: typed('error', { error: { type: 'string', maxLength: 300 } }),
    },
    candle: forwarded(
      'candle',
      {
        ...candle,
        properties: {
          key: { type: 'string', description: '`exchange:symbol:interval:openTime`' },
          ...candle.properties,
        },
      },
      'A candle update: the open window (`closed: false`), a close or a revision; once the venue check judges a ' +
        'closed revision, the same candle again with its `verification` (docs/API.md).',
    ),
    alert: forwarded('alert', ref('Alert'), 'An alert.'),
    indicator: forwarded('indicator', ref('Indicators'), "A closed candle's indicators, once per candle."),
    verification: forwarded(
      'verification',
      ref('VerificationEvent'),
      "The venue's judgement of a closed candle's revision alone, after the candle (key: exchange, symbol, interval, openTime); a `candles` subscription gets it on the candle.",
    ),
    index: forwarded('index', ref('IndexValue'), 'A cross-venue index value.'),
    dropped: {
      name: 'dropped',
      summary: 'Before the next message, when messages were lost because the client fell behind.',
      payload: typed('dropped', {
        count: { type: 'integer', minimum: 1, description: 'since the last report' },
        total: { type: 'integer', minimum: 1, description: 'over the connection' },
      }),
    },
  };
  const channelMessages = Object.fromEntries(
    Object.keys(messages).map((m) => [m, { $ref: `#/components/messages/${m}` }]),
  );
  const sent = Object.keys(messages).filter((m) => m !== 'subscribe');
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'tickmesh stream',
      version: '1',
      description:
        'Live candles, indicators, verifications, alerts and index values over a WebSocket (docs/API.md). Decimals are strings. ' +
        `The server pings every ${config.stream.pingMs} ms and cuts a client whose pong does not echo it by the next ping. ` +
        `Close codes: ${Object.entries(CLOSE_CODES)
          .map(([code, why]) => `${code} ${why}`)
          .join('; ')}.`,
    },
    channels: {
      stream: {
        address: STREAM_PATH,
        title: 'The stream',
        description: `With API keys on, the key as \`Authorization: Bearer <key>\` or \`?${API_KEY_PARAM}=<key>\`.`,
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: { type: 'object', properties: { [API_KEY_PARAM]: { type: 'string' } } },
            bindingVersion: '0.1.0',
          },
        },
        'x-close-codes': CLOSE_CODES,
      },
    },
    operations: {
      receiveSubscribe: {
        action: 'receive',
        channel: { $ref: '#/channels/stream' },
        summary: 'A client subscribes.',
        messages: [{ $ref: '#/channels/stream/messages/subscribe' }],
      },
      sendUpdates: {
        action: 'send',
        channel: { $ref: '#/channels/stream' },
        summary: 'The server answers and forwards live updates.',
        messages: sent.map((m) => ({ $ref: `#/channels/stream/messages/${m}` })),
      },
    },
    components: { schemas: components, messages },
  };
}

/** GET ASYNCAPI_PATH: the document, built once (it depends on the configuration only). */
export function registerAsyncApiRoute(app: FastifyInstance, config: ApiConfig): void {
  const doc = asyncApiDocument(config);
  const response = apiResponses({ type: 'object', description: 'The AsyncAPI 3.0 document of /api/v1/stream.' });
  app.get(ASYNCAPI_PATH, { schema: { response } }, async () => doc);
}
