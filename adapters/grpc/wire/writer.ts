/**
 * The few protobuf wire writes the hot encoders need, into one Buffer sized beforehand (`sizes` first, then
 * `WireWriter`): no intermediate objects or growing buffers. Numbers are non-negative safe integers only; the callers
 * check that and leave anything else to the general encoder.
 */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Size of a length-delimited field (tag of one byte: field numbers below 16) whose body is `length` bytes. */
export const lengthFieldSize = (length: number) => 1 + varintSize(length) + length;

/** Size of a varint field (tag of one byte); 0 for the proto3 default, which is not written. */
export const varintFieldSize = (n: number) => (n === 0 ? 0 : 1 + varintSize(n));

export class WireWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(n: number): void {
    const { buf } = this;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  /** A varint field, skipped when 0 (the proto3 default). */
  varintField(field: number, n: number): void {
    if (n === 0) return;
    this.buf[this.pos++] = field << 3;
    this.varint(n);
  }

  /** A string field of `length` UTF-8 bytes (Buffer.byteLength), skipped when empty. */
  stringField(field: number, s: string, length: number): void {
    if (length === 0) return;
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(length);
    this.pos += this.buf.write(s, this.pos, length, 'utf8');
  }

  /** The header of an embedded message of `length` bytes; its fields follow. */
  messageHeader(field: number, length: number): void {
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(length);
  }
}
