import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for paths that run once per trade, exported through a prom-client
 * registry like any other metric.
 *
 * prom-client's labelled children rebuild a label hash and validate the labels on every `inc()`
 * and `observe()`, as costly as the rest of ingest's work on a trade (docs/BENCHMARKS.md). A child here is a few numbers: `inc()` is an addition, `observe()` a bucket
 * search and three additions. The series are formatted only when the registry is scraped, in the
 * shape prom-client gives its own counters and histograms (the tests compare the two).
 *
 * Label values are fixed when a child is made, and not validated against Prometheus's label
 * rules beyond their count; callers make few children and keep them.
 */

interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Sample[];
}

export interface HotMetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registry: Registry;
}

abstract class HotMetric<Child> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  abstract readonly type: string;
  protected readonly children = new Map<string, { labels: Record<string, string>; child: Child }>();
  private readonly labelNames: readonly string[];

  constructor(options: HotMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The registry wants one of prom-client's classes in its types, and only calls get(),
    // getForPromString(), reset() and reads name/help/type/aggregator at run time (registry.js).
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values (in labelNames order), made on first use. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`);
    }
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i] as string;
      });
      entry = { labels, child: this.makeChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract makeChild(): Child;
  protected abstract samples(): Sample[];

  /** Called by the registry for its text format: labels common to a series apart, as prom-client does. */
  async getForPromString(): Promise<Exported> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples() };
  }

  /** Called by the registry for JSON and by readers of one metric: every sample with all its labels. */
  async get(): Promise<Exported> {
    const values = this.samples().map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      ...(metricName === undefined ? {} : { metricName }),
    }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Called by the registry's resetMetrics(). */
  reset(): void {
    this.children.clear();
  }
}

export interface HotCounterChild {
  /** Adds `n` (default 1); negative or non-finite amounts throw, as prom-client's do. */
  inc(n?: number): void;
}

class CounterChild implements HotCounterChild {
  value = 0;
  inc(n = 1): void {
    if (!(n >= 0) || n === Number.POSITIVE_INFINITY)
      throw new TypeError(`counter increment is not a finite amount >= 0: ${n}`);
    this.value += n;
  }
}

export class HotCounter extends HotMetric<CounterChild> {
  readonly type = 'counter';

  protected makeChild(): CounterChild {
    return new CounterChild();
  }

  protected samples(): Sample[] {
    return [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value }));
  }
}

export interface HotHistogramChild {
  observe(value: number): void;
}

class HistogramChild implements HotHistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    // One slot per bound and one for values above the last (counted in +Inf only).
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`histogram value is not a finite number: ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HotHistogram extends HotMetric<HistogramChild> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(options: HotMetricOptions & { readonly buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  protected makeChild(): HistogramChild {
    return new HistogramChild(this.bounds);
  }

  protected samples(): Sample[] {
    const out: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += child.counts[i] as number;
        out.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucket });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: child.count, metricName: bucket });
      out.push({ labels: {}, sharedLabels: labels, value: child.sum, metricName: `${this.name}_sum` });
      out.push({ labels: {}, sharedLabels: labels, value: child.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
