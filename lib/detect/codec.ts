/**
 * Little-endian binary writer and reader for the model state. Numbers are float64 so a
 * restore is bit-exact; strings are a u32 byte length followed by UTF-8.
 */
import { ModelStateError } from '../domain/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes a string takes in the state: 4 (length) + its UTF-8 length. */
export function stringBytes(s: string): number {
  // ASCII fast path: no allocation, one pass.
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      n = Buffer.byteLength(s, 'utf8');
      break;
    }
  }
  return 4 + n;
}

/** Appends values to a growing buffer. */
export class BinWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
    this.view = new DataView(this.buf.buffer);
  }

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

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  f64s(a: Float64Array): void {
    this.ensure(a.length * 8);
    for (let i = 0; i < a.length; i++) {
      this.view.setFloat64(this.pos, a[i] as number, true);
      this.pos += 8;
    }
  }

  str(s: string): void {
    const bytes = encoder.encode(s);
    this.u32(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** The bytes written so far (a Buffer view, no copy). */
  finish(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

/** Reads what BinWriter wrote. */
export class BinReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.byteLength) throw new ModelStateError('model state is truncated');
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f64s(n: number): Float64Array {
    this.need(n * 8);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getFloat64(this.pos, true);
      this.pos += 8;
    }
    return out;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** True when every byte was read. */
  done(): boolean {
    return this.pos === this.buf.byteLength;
  }
}
