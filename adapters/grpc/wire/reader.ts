/**
 * The few protobuf wire reads the hot decoders need, over one Buffer, with no copies: length-delimited fields come
 * back as views. Anything it cannot vouch for (a varint over 10 bytes, a length past the end, groups) is reported as
 * `undefined`, and the caller hands the request to the general decoder instead.
 */
export class WireReader {
  pos: number;
  readonly end: number;
  readonly buf: Buffer;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** A varint of at most 32 significant bits (tags, lengths, int32 ≥ 0); undefined for anything longer. */
  uint32(): number | undefined {
    const { buf } = this;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) return undefined;
      const byte = buf[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value <= 0xffffffff ? value : undefined;
    }
    return undefined;
  }

  /** The bounds of a length-delimited field's body; the reader moves past it. */
  span(): { start: number; end: number } | undefined {
    const length = this.uint32();
    if (length === undefined || length > this.end - this.pos) return undefined;
    const start = this.pos;
    this.pos += length;
    return { start, end: this.pos };
  }

  /** Skips a field of an unknown number; false for a wire type the hot path does not take (groups, malformed). */
  skip(wireType: number): boolean {
    switch (wireType) {
      case 0:
        for (let i = 0; i < 10; i++) {
          if (this.pos >= this.end) return false;
          if (this.buf[this.pos++]! < 0x80) return true;
        }
        return false;
      case 1:
        this.pos += 8;
        return this.pos <= this.end;
      case 2:
        return this.span() !== undefined;
      case 5:
        this.pos += 4;
        return this.pos <= this.end;
      default:
        return false;
    }
  }
}
