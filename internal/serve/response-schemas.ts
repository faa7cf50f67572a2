import type { FastifyInstance } from 'fastify';
import { ALERT_KINDS, ALERT_SEVERITIES } from '../market/alert.js';
import { INTERVALS } from '../market/interval.js';
import { KLINE_FIELDS } from '../verify/kline.js';
import { VERIFY_STATUSES } from '../verify/verification.js';

/**
 * JSON schemas of what the API answers: the records (components, referenced as `ref('Candle')`)
 * and each route's `schema.response` (apiResponses). They document the responses in the OpenAPI
 * document and are what tests and schemathesis check real responses against; they never shape
 * a response: registerResponseSchemas makes every route serialize with JSON.stringify, as
 * before the schemas existed. fast-json-stringify, Fastify's default, would silently drop a field
 * the schema lacks and write a null where a number is declared as 0, so a document that drifted
 * from the code would change the data; with JSON.stringify it fails a test instead.
 *
 * A new route: `schema: { querystring, response: apiResponses(<200 body>, { query: true }) }`;
 * a new record: one entry in COMPONENTS, referenced with ref(). docs/API.md, "Response schemas".
 */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A reference to a component of COMPONENTS, as Fastify and @fastify/swagger resolve it. */
export function ref(name: ComponentName): JsonSchema {
  return refTo(name);
}

function refTo(name: string): JsonSchema {
  return { $ref: `${name}#` };
}

const nullable = (type: string) => ({ type: [type, 'null'] });

const epochMs = (description: string) => ({ type: 'integer', minimum: 0, description });

const object = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const marketFields = {
  exchange: { type: 'string', description: 'the venue, e.g. `binance`; `index` for cross-venue alerts' },
  symbol: { type: 'string', description: "the venue's own symbol, e.g. `BTCUSDT`" },
  market: { type: 'string', description: 'canonical `BASE-QUOTE`, e.g. `BTC-USDT`' },
};

const CANDLE_REQUIRED = [
  ...['exchange', 'symbol', 'market', 'interval', 'openTime', 'closeTime', 'open', 'high', 'low', 'close'],
  ...['volume', 'quoteVolume', 'trades', 'takerBuyVolume', 'takerBuyQuoteVolume', 'vwap', 'firstTradeId'],
  ...['lastTradeId', 'revision', 'closed'],
];

const score = object({ accuracy: nullable('number'), logLoss: nullable('number'), brier: nullable('number') });
const byBaseline = (schema: unknown) => object({ persistence: schema, majority: schema, coin: schema });

/** The records, each registered once under its name as `$id`. */
const COMPONENTS = {
  Decimal: {
    type: 'string',
    pattern: '^-?[0-9]+(\\.[0-9]+)?$',
    description: 'An exact decimal as a string, never a float (`"64967.43"`, `"0.00000001"`).',
    examples: ['64967.43'],
  },
  Interval: { type: 'string', enum: [...INTERVALS], description: 'A candle interval.' },
  Candle: {
    ...object(
      {
        ...marketFields,
        interval: refTo('Interval'),
        openTime: epochMs('Unix epoch ms, inclusive'),
        closeTime: epochMs('openTime + interval - 1 ms'),
        open: refTo('Decimal'),
        high: refTo('Decimal'),
        low: refTo('Decimal'),
        close: refTo('Decimal'),
        volume: refTo('Decimal'),
        quoteVolume: refTo('Decimal'),
        trades: { type: 'integer', minimum: 0 },
        takerBuyVolume: refTo('Decimal'),
        takerBuyQuoteVolume: refTo('Decimal'),
        vwap: refTo('Decimal'),
        firstTradeId: { type: 'string', description: 'empty on a candle with no trade' },
        lastTradeId: { type: 'string', description: 'empty on a candle with no trade' },
        revision: { type: 'integer', minimum: 0, description: '0 when first closed, +1 per late-trade revision' },
        closed: { type: 'boolean', description: 'false for the open window' },
        verification: {
          oneOf: [refTo('CandleVerification'), { type: 'null' }],
          description:
            "the venue's check of this revision; null until judged (stored candles); absent where not read (cache) and on the stream until judged (the closed candle comes again with it)",
        },
      },
      CANDLE_REQUIRED,
    ),
    description: 'A kline (docs/CANDLES.md); decimals are exact strings.',
  },
  FieldDifference: {
    ...object({
      field: { type: 'string', enum: [...KLINE_FIELDS] },
      ours: { type: 'string', description: "tickmesh's value" },
      theirs: { type: 'string', description: "the venue's value" },
    }),
    description: 'A field on which the candle and the venue kline differ, both values as the records write them.',
  },
  CandleVerification: {
    ...object(
      {
        status: { type: 'string', enum: [...VERIFY_STATUSES] },
        revision: { type: 'integer', minimum: 0, description: 'the candle revision judged' },
        differences: {
          type: 'array',
          items: refTo('FieldDifference'),
          description: '`mismatch` only: every field that differs',
        },
        conventionDifferences: {
          type: 'array',
          items: refTo('FieldDifference'),
          description: 'fields the venue builds by another rule (docs/CANDLES.md): shown, never a mismatch',
        },
        likelyCause: { type: 'string', enum: ['gap'], description: '`mismatch` only: a recorded gap overlaps' },
        reason: { type: 'string', description: '`unverifiable` only: why' },
        checkedAt: epochMs('when the judgement was made'),
      },
      ['status', 'revision', 'checkedAt'],
    ),
    description: "A closed candle's check against the venue's own kline (docs/CANDLES.md).",
  },
  VerificationEvent: {
    ...object(
      {
        exchange: marketFields.exchange,
        symbol: marketFields.symbol,
        interval: refTo('Interval'),
        openTime: epochMs("the judged candle's open time"),
        status: { type: 'string', enum: [...VERIFY_STATUSES] },
        revision: { type: 'integer', minimum: 0 },
        differences: { type: 'array', items: refTo('FieldDifference') },
        conventionDifferences: { type: 'array', items: refTo('FieldDifference') },
        likelyCause: { type: 'string', enum: ['gap'] },
        reason: { type: 'string' },
        checkedAt: epochMs('when the judgement was made'),
      },
      ['exchange', 'symbol', 'interval', 'openTime', 'status', 'revision', 'checkedAt'],
    ),
    description: "A candle's judgement as the stream sends it: the candle's key and its CandleVerification.",
  },
  VerificationCounts: {
    ...object({
      verified: { type: 'integer', minimum: 0 },
      mismatch: { type: 'integer', minimum: 0 },
      unverifiable: { type: 'integer', minimum: 0 },
      pending: { type: 'integer', minimum: 0, description: 'stored, its current revision not judged yet' },
    }),
    description: 'Stored candles by verification status.',
  },
  LatestPrice: {
    ...object({
      ...marketFields,
      price: refTo('Decimal'),
      time: epochMs("the trade's exchange event time"),
      tradeId: { type: 'string' },
    }),
    description: "A market's latest trade, as the worker last published it.",
  },
  Indicators: {
    ...object({
      ...marketFields,
      interval: refTo('Interval'),
      openTime: epochMs('open time of the candle whose close produced these values'),
      vwap: nullable('number'),
      sma: { type: 'object', additionalProperties: nullable('number'), description: 'by period' },
      ema: { type: 'object', additionalProperties: nullable('number'), description: 'by period' },
      volatility: nullable('number'),
      imbalance: nullable('number'),
    }),
    description: 'Indicators of a closed candle: floats (statistics, not records), null until enough candles closed.',
  },
  Alert: {
    ...object(
      {
        id: { type: 'string', description: 'deterministic: a replay re-creates the same id' },
        ...marketFields,
        kind: { type: 'string', enum: [...ALERT_KINDS] },
        severity: { type: 'string', enum: [...ALERT_SEVERITIES] },
        time: epochMs('event time the alert is about'),
        interval: refTo('Interval'),
        message: { type: 'string' },
        evidence: {
          type: 'object',
          additionalProperties: { type: ['string', 'number'] },
          description: 'decimals as exact strings, statistics as numbers',
        },
      },
      ['id', 'exchange', 'symbol', 'market', 'kind', 'severity', 'time', 'message', 'evidence'],
    ),
    description: 'An alert with the evidence that made it fire; `interval` is absent for per-trade detectors.',
  },
  Prediction: {
    ...object({
      ...marketFields,
      interval: refTo('Interval'),
      openTime: epochMs('open time of the candle whose close produced the forecast'),
      targetOpenTime: epochMs('open time of the candle forecast'),
      pUp: { type: 'number', minimum: 0, maximum: 1 },
      baselines: byBaseline({ type: 'number' }),
      scores: object({
        scored: { type: 'integer', minimum: 0 },
        model: score,
        baselines: byBaseline(score),
        verdicts: byBaseline({ type: 'string', enum: ['too-few', 'better', 'no-difference', 'worse'] }),
        beatsBaselines: { type: 'boolean' },
      }),
    }),
    description: "The trend model's forecast with its running scores beside every baseline's (docs/MODEL.md).",
  },
  MarketEntry: {
    ...object(
      {
        ...marketFields,
        lastSeen: { ...nullable('integer'), description: 'when its price last came over the bus, Unix epoch ms' },
        price: { oneOf: [refTo('LatestPrice'), { type: 'null' }] },
        candle: { oneOf: [refTo('Candle'), { type: 'null' }], description: 'only with `interval`' },
      },
      ['exchange', 'symbol', 'market', 'lastSeen', 'price'],
    ),
    description: 'A market the API knows, with its latest price and (given an interval) candle from the cache.',
  },
  IndexValue: {
    ...object({
      asset: { type: 'string' },
      price: { type: 'number', description: 'a statistic (volume-weighted median), not a record' },
      time: epochMs('Unix epoch ms'),
      venues: {
        type: 'array',
        items: object({ key: { type: 'string' }, price: { type: 'number' }, weight: { type: 'number' } }),
      },
    }),
    description: "An asset's cross-venue index value (stream only).",
  },
  Reference: {
    ...object({
      source: { type: 'string', description: '`coingecko`, or `simulated` in `tickmesh dev`' },
      asset: { type: 'string', description: "tickmesh's asset, e.g. `BTC`" },
      sourceId: { type: 'string', description: "the source's own id of the asset" },
      vsCurrency: { type: 'string' },
      price: { type: 'number', description: 'a reference figure as the source wrote it, not a sum tickmesh builds' },
      marketCap: nullable('number'),
      rank: nullable('integer'),
      volume24h: nullable('number'),
      change24hPct: nullable('number'),
      circulatingSupply: nullable('number'),
      totalSupply: nullable('number'),
      maxSupply: nullable('number'),
      time: epochMs("the source's time of the figures"),
      receiveTime: epochMs('when ingest received them'),
    }),
    description: "An asset's reference data (docs/SOURCES.md).",
  },
  Sentiment: {
    ...object({
      source: { type: 'string' },
      index: { type: 'string', description: 'e.g. `crypto-fear-greed`' },
      value: { type: 'number', minimum: 0, maximum: 100 },
      classification: { type: 'string' },
      time: epochMs('start of the day the value is for'),
      receiveTime: epochMs('when ingest received it'),
    }),
    description: 'A market-wide sentiment index value (docs/SOURCES.md).',
  },
  Headline: {
    ...object({
      source: { type: 'string' },
      guid: { type: 'string' },
      link: nullable('string'),
      title: { type: 'string' },
      summary: nullable('string'),
      published: { ...nullable('integer'), description: "the feed's publication time, Unix epoch ms" },
      receiveTime: epochMs('when ingest received it'),
      assets: { type: 'array', items: { type: 'string' }, description: 'the assets the headline names' },
      sentiment: object({ score: { type: 'number' }, comparative: { type: 'number' } }),
    }),
    description: 'A news headline with the assets it names and its sentiment score (docs/SOURCES.md).',
  },
  Error: {
    ...object({
      statusCode: { type: 'integer' },
      error: { type: 'string', description: "the status's name" },
      code: { type: 'string', description: '`TM_BAD_QUERY`, `TM_NOT_FOUND`, ... (docs/API.md, Errors)' },
      message: { type: 'string' },
    }),
    description: 'Every error answer.',
  },
} as const satisfies Record<string, JsonSchema>;

export type ComponentName = keyof typeof COMPONENTS;

/** The records with their names as `$id`, as registered on a Fastify instance. */
export function responseComponents(): JsonSchema[] {
  return Object.entries(COMPONENTS).map(([name, schema]) => ({ $id: name, ...schema }));
}

/**
 * Adds the records for ref() and makes every route (with or without a response schema) answer
 * with JSON.stringify. On the root instance, before any route.
 */
export function registerResponseSchemas(app: FastifyInstance): void {
  for (const schema of responseComponents()) app.addSchema(schema);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

const error = (description: string, headers?: Record<string, unknown>) => ({
  ...ref('Error'),
  description,
  ...(headers ? { headers } : {}),
});

const retryAfter = (description: string) => ({ 'retry-after': { type: 'string', description } });

/**
 * A route's `schema.response`: its 200 body, and the errors an /api route can answer. `query`:
 * the route checks a query string (400); `notFound`: it answers 404 for a missing record.
 */
export function apiResponses(
  ok: JsonSchema,
  opts: { readonly query?: boolean; readonly notFound?: boolean } = {},
): Record<string, JsonSchema> {
  return {
    200: ok,
    ...(opts.query ? { 400: error('A query parameter is missing, unknown or invalid: `TM_BAD_QUERY`.') } : {}),
    401: error('With API keys on: no key, or not a valid one (`TM_UNAUTHORIZED`).'),
    ...(opts.notFound ? { 404: error('Nothing cached for that market (`TM_NOT_FOUND`).') } : {}),
    429: error('Over the rate limit (`TM_RATE_LIMITED`).', retryAfter('seconds until the minute ends')),
    500: error('A bug (`TM_INTERNAL`), logged by the server.'),
    503: error('PostgreSQL or Redis did not answer (`TM_UNAVAILABLE`).', retryAfter('5 (seconds)')),
  };
}

/** GET /api/v1/stream: the upgrade, or why not (the messages: /api/v1/asyncapi.json, docs/API.md). */
export function streamResponses(): Record<string, JsonSchema> {
  return {
    101: { type: 'null', description: 'Switching Protocols: the WebSocket of /api/v1/asyncapi.json.' },
    401: error('With API keys on: no key, or not a valid one (`TM_UNAUTHORIZED`).'),
    403: error('A browser page of another origin (`TM_ORIGIN`).'),
    426: error('A plain GET without an upgrade (`TM_UPGRADE_REQUIRED`).'),
    429: error(
      'The client address has its maximum of connections open (`TM_TOO_MANY_CONNECTIONS`), or over the rate limit (`TM_RATE_LIMITED`).',
    ),
  };
}

/** The 200 body of a paged series (candles, indicators, predictions): the query echoed, the rows, `next`. */
export function seriesPage(field: string, row: ComponentName): JsonSchema {
  return {
    ...object({
      exchange: { type: 'string' },
      symbol: { type: 'string' },
      interval: ref('Interval'),
      [field]: { type: 'array', items: ref(row) },
      next: { ...nullable('integer'), description: 'the `from` of the next page when this one is full, else null' },
    }),
    description: `A page of ${field}, oldest first.`,
  };
}

/** The 200 body `{"<field>": <record>}` of a /latest route. */
export function single(field: string, row: ComponentName): JsonSchema {
  return { ...object({ [field]: ref(row) }), description: `The latest ${field} from the cache.` };
}

/** The 200 body `{"<field>": [<record>, ...]}`. */
export function list(field: string, row: ComponentName): JsonSchema {
  return { ...object({ [field]: { type: 'array', items: ref(row) } }), description: `The ${field}.` };
}

/** The 200 body of a paged context route: the query's key echoed, the rows, `next`. */
export function contextPage(key: string, keySchema: JsonSchema, field: string, row: ComponentName): JsonSchema {
  return {
    ...object({
      [key]: keySchema,
      [field]: { type: 'array', items: ref(row) },
      next: { ...nullable('integer'), description: 'the `from` of the next page when this one is full, else null' },
    }),
    description: `A page of ${field}, oldest first.`,
  };
}

/** The 200 body of GET /api/v1/alerts: the alerts, and the cursor of the next page. */
export const ALERTS_PAGE: JsonSchema = {
  ...object({
    alerts: { type: 'array', items: ref('Alert') },
    next: {
      ...nullable('string'),
      description: 'pass back as `after` (with the same filters) for the next page when this one is full, else null',
    },
  }),
  description: 'A page of alerts: oldest first with `from` or `after`, else the newest.',
};

/** /healthz and /readyz: a line of text. */
export function textResponses(codes: Record<number, string>): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(codes).map(([code, text]) => [
      code,
      { description: text, content: { 'text/plain': { schema: { type: 'string', examples: [`${text}\n`] } } } },
    ]),
  );
}

/** The 200 body of /api/v1/info. */
export const INFO_RESPONSE: JsonSchema = {
  ...object({
    name: { type: 'string', const: 'tickmesh' },
    source: object({ label: { type: 'string' }, simulated: { type: 'boolean' } }, ['label']),
    simulated: { type: 'boolean' },
    intervals: { type: 'array', items: ref('Interval') },
    dashboardInterval: ref('Interval'),
    retention: {
      type: 'object',
      propertyNames: { anyOf: [ref('Interval'), { const: 'alerts' }] },
      additionalProperties: { type: 'integer', minimum: 1 },
      description: "how far back (ms) each interval's rows and the alerts are kept; an interval absent: kept forever",
    },
    stream: { type: 'string', description: 'the WebSocket path' },
    time: epochMs("the server's clock"),
  }),
  description: 'What a page needs to label the data.',
};

const share = {
  ...nullable('number'),
  minimum: 0,
  maximum: 1,
  description: 'verified / (verified + mismatch + unverifiable): of the judged candles; null when none is judged',
};

/** The 200 body of GET /api/v1/verification (verification-routes.ts). */
export const VERIFICATION_SUMMARY: JsonSchema = {
  ...object({
    exchange: nullable('string'),
    symbol: nullable('string'),
    interval: { oneOf: [ref('Interval'), { type: 'null' }] },
    counts: ref('VerificationCounts'),
    verifiedShare: share,
    markets: {
      type: 'array',
      items: object({
        exchange: { type: 'string' },
        symbol: { type: 'string' },
        counts: ref('VerificationCounts'),
        verifiedShare: share,
        intervals: {
          type: 'array',
          items: object({ interval: ref('Interval'), counts: ref('VerificationCounts'), verifiedShare: share }),
        },
      }),
      description: 'each market with stored candles in the range, by exchange then symbol',
    },
    mismatches: {
      type: 'array',
      items: ref('Candle'),
      description:
        'candles judged `mismatch`, each with its verification: oldest first with `from` or `after`, else the newest',
    },
    next: {
      ...nullable('string'),
      description: 'pass back as `after` (with the same filters) for the next page of mismatches when this one is full',
    },
  }),
  description: "Stored candles' verification against the venues: counts by status, the verified share, the mismatches.",
};
