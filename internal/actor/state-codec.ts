/**
 * The byte-level encoding of actor checkpoints: unsigned LEB128 varints for non-negative
 * integers up to 2^53 (computed with arithmetic, not 32-bit bit operations), zigzag varints for
 * signed ones, little-endian float64 for statistics, length-prefixed UTF-8 strings.
 */
export class StateWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private static readonly encoder = new TextEncoder();

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** Non-negative integer below 2^53. */
  uint(v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`not a uint: ${v}`);
    this.ensure(8);
    let x = v;
    while (x >= 128) {
      this.buf[this.pos++] = (x % 128) + 128;
      x = Math.floor(x / 128);
    }
    this.buf[this.pos++] = x;
  }

  /** Integer of magnitude below 2^52. */
  int(v: number): void {
    this.uint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  str(s: string): void {
    const bytes = StateWriter.encoder.encode(s);
    this.uint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A time that may be -Infinity (never set) or NaN. */
  time(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.u8(0);
      this.int(v);
    } else {
      this.u8(1);
      this.f64(v);
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class StateReader {
  private readonly view: DataView;
  private pos = 0;
  private static readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('checkpoint truncated');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  uint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b % 128) * mul;
      if (b < 128) return v;
      mul *= 128;
      if (mul > 2 ** 56) throw new RangeError('checkpoint varint too long');
    }
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.uint();
    this.need(n);
    const s = StateReader.decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  time(): number {
    return this.u8() === 0 ? this.int() : this.f64();
  }

  get done(): boolean {
    return this.pos === this.buf.length;
  }
}
