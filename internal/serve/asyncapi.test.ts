import specs from '@asyncapi/specs';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { alert, candle, indicators } from '../../test/contracts/store-contract.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { alertSubject, candleSubject, indexSubject, indicatorSubject } from '../bus/subject-names.js';
import { candleUpdateJson } from '../market/candle-json.js';
import { apiConfig } from './api-config.js';
import { newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { ASYNCAPI_PATH, asyncApiDocument } from './asyncapi.js';
import { streamRequestParser } from './stream-request.js';
import { startStorelessApi } from './testing/storeless-api.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

type Doc = ReturnType<typeof asyncApiDocument> & {
  components: { messages: Record<string, { payload: unknown }>; schemas: Record<string, unknown> };
};

/** A validator of each message's payload, against the document's own components. */
function payloadValidator(doc: Doc) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  return (type: string, message: unknown): string | undefined => {
    const validate = ajv.getSchema(`doc#/components/messages/${type}/payload`);
    if (!validate) return `no message ${type} in the document`;
    return validate(message) ? undefined : `${type}: ${ajv.errorsText(validate.errors)}`;
  };
}

describe('the AsyncAPI document of the stream', () => {
  it('is AsyncAPI 3.0 by the specification schema, served with the key like the OpenAPI one', async () => {
    const k = newApiKey('docs');
    const s = await startStorelessApi({ auth: { keys: parseApiKeys(k.line) } });
    servers.push(s);
    expect((await s.app.inject({ url: ASYNCAPI_PATH })).statusCode).toBe(401);
    const res = await s.app.inject({ url: ASYNCAPI_PATH, headers: { authorization: `Bearer ${k.key}` } });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Doc;
    // The specification bundles its own copy of the draft-07 meta-schema.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, meta: false, validateSchema: false });
    const validate = ajv.compile(specs.schemas['3.0.0'] as object);
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    expect(Object.keys(doc.components.messages).sort()).toEqual(
      [
        ...['alert', 'candle', 'dropped', 'error', 'hello', 'index', 'indicator', 'subscribe', 'subscribed'],
        'verification',
      ].sort(),
    );
    expect(JSON.stringify(doc)).toMatch(/1008 .*1013 /);
  });

  it('accepts exactly the subscribe messages the stream accepts', () => {
    const config = apiConfig({ intervals: ['1m', '5m'] });
    const check = payloadValidator(asyncApiDocument(config) as Doc);
    const parse = streamRequestParser(config.intervals);
    const cases: unknown[] = [
      { subscribe: {} },
      { subscribe: { candles: { interval: '1m' } } },
      { subscribe: { candles: [{ interval: '*', exchange: 'binance', symbol: 'BTCUSDT', kind: 'closed' }] } },
      { subscribe: { alerts: true, index: false } },
      { subscribe: { alerts: { kind: 'price_spike' }, index: { asset: 'BTC' } } },
      { subscribe: { indicators: { interval: '5m', symbol: 'ETH-USD' } } },
      { subscribe: { candles: { interval: '7m' } } },
      { subscribe: { candles: { exchange: 'binance' } } },
      { subscribe: { candles: { interval: '1m', kind: 'open' } } },
      { subscribe: { candles: Array.from({ length: 33 }, () => ({ interval: '1m' })) } },
      { subscribe: { alerts: 'yes' } },
      { subscribe: { index: { asset: 'B T C' } } },
      { subscribe: { indicators: { interval: '1m', kind: 'closed' } } },
      { subscribe: { trades: true } },
      { unsubscribe: {} },
      {},
      [],
    ];
    for (const c of cases) {
      expect(check('subscribe', c) === undefined, JSON.stringify(c)).toBe(parse(JSON.stringify(c)).ok);
    }
  });

  it('describes every message the stream sends', async () => {
    const bus = createMemoryBus();
    const s = await startStorelessApi({ intervals: ['1m'], source: { label: 'test', simulated: true } }, { bus });
    servers.push(s);
    const check = payloadValidator(asyncApiDocument(apiConfig({ intervals: ['1m'] })) as Doc);
    const messages: Array<{ type: string }> = [];
    const ws: WebSocket = await s.app.injectWS(
      '/api/v1/stream',
      {},
      {
        onInit: (w) => w.on('message', (d) => messages.push(JSON.parse(d.toString()))),
      },
    );
    const until = (type: string) =>
      vi.waitFor(() => expect(messages.map((m) => m.type)).toContain(type), { timeout: 2_000, interval: 10 });
    await until('hello');
    ws.send('not json');
    await until('error');
    ws.send(
      JSON.stringify({
        subscribe: { candles: { interval: '1m' }, alerts: true, index: true, indicators: { interval: '*' } },
      }),
    );
    await until('subscribed');
    const c = candle({ closed: false });
    const a = alert();
    const encoder = new TextEncoder();
    const publish = (subject: string, data: Uint8Array) => bus.publish(subject, data);
    publish(candleSubject('partial', c), encoder.encode(candleUpdateJson(c)));
    publish(alertSubject(a), encoder.encode(JSON.stringify(a)));
    publish(indicatorSubject(indicators(c)), encoder.encode(JSON.stringify(indicators(c))));
    publish(
      indexSubject('BTC'),
      encoder.encode(
        JSON.stringify({
          asset: 'BTC',
          price: 1.5,
          time: 1,
          venues: [{ key: 'binance:BTCUSDT', price: 1.5, weight: 1 }],
        }),
      ),
    );
    for (const type of ['candle', 'alert', 'indicator', 'index']) await until(type);
    ws.terminate();
    const violations = messages.map((m) => check(m.type, m)).filter((v) => v !== undefined);
    expect(violations).toEqual([]);
    expect(check('dropped', { type: 'dropped', count: 3, total: 5 })).toBeUndefined();
  });
});
