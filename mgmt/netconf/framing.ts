/**
 * NETCONF message framing over a byte stream (RFC 6242): base:1.0 messages end
 * with `]]>]]>`; after both peers advertise base:1.1, messages are chunked
 * (`\n#<len>\n<data>` … `\n##\n`). A message larger than `maxMessage` bytes,
 * or a chunk header that does not parse, is a framing error: the session
 * that sent it is closed (there is no way to find the next message reliably).
 */
export const EOM = ']]>]]>';
const EOM_BUF = Buffer.from(EOM);
const MAX_CHUNK = 4294967295;

export class FramingError extends Error {
  constructor(
    message: string,
    readonly kind: 'too-big' | 'malformed',
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

export class Deframer {
  private buf: Buffer = Buffer.alloc(0);
  private chunked = false;
  /** Chunks of the message being assembled (base:1.1). */
  private parts: Buffer[] = [];
  private partBytes = 0;

  constructor(private readonly maxMessage: number) {}

  /** Switches to chunked framing (after the hello exchange). */
  useChunked(): void {
    this.chunked = true;
  }

  get isChunked(): boolean {
    return this.chunked;
  }

  /** Feeds bytes. Throws FramingError when the unframed buffer already exceeds the limit. */
  push(data: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    if (!this.chunked && this.buf.length > this.maxMessage + EOM_BUF.length && this.buf.indexOf(EOM_BUF) < 0) {
      throw new FramingError(`message exceeds ${this.maxMessage} bytes`, 'too-big');
    }
  }

  /**
   * The next complete message (UTF-8 text), or undefined. One at a time: the
   * caller may switch to chunked framing between two messages (after the hello).
   */
  next(): string | undefined {
    return this.chunked ? this.nextChunked() : this.nextEom();
  }

  private nextEom(): string | undefined {
    const i = this.buf.indexOf(EOM_BUF);
    if (i < 0) return undefined;
    if (i > this.maxMessage) throw new FramingError(`message exceeds ${this.maxMessage} bytes`, 'too-big');
    const msg = this.buf.subarray(0, i).toString('utf8');
    this.buf = this.buf.subarray(i + EOM_BUF.length);
    return msg;
  }

  private nextChunked(): string | undefined {
    for (;;) {
      if (this.buf.length < 4) return undefined;
      if (this.buf[0] !== 0x0a || this.buf[1] !== 0x23) throw new FramingError('chunk header does not start with LF #', 'malformed');
      if (this.buf[2] === 0x23) {
        if (this.buf[3] !== 0x0a) throw new FramingError('end-of-chunks marker is not LF ## LF', 'malformed');
        this.buf = this.buf.subarray(4);
        if (this.parts.length === 0) throw new FramingError('a message without chunks', 'malformed');
        const msg = Buffer.concat(this.parts).toString('utf8');
        this.parts = [];
        this.partBytes = 0;
        return msg;
      }
      const lf = this.buf.indexOf(0x0a, 2);
      if (lf < 0) {
        if (this.buf.length > 13) throw new FramingError('chunk size is too long', 'malformed');
        return undefined;
      }
      const digits = this.buf.subarray(2, lf).toString('latin1');
      if (!/^[1-9][0-9]{0,9}$/.test(digits) || Number(digits) > MAX_CHUNK) throw new FramingError(`bad chunk size '${digits.slice(0, 12)}'`, 'malformed');
      const size = Number(digits);
      if (this.partBytes + size > this.maxMessage) throw new FramingError(`message exceeds ${this.maxMessage} bytes`, 'too-big');
      if (this.buf.length < lf + 1 + size) return undefined;
      this.parts.push(this.buf.subarray(lf + 1, lf + 1 + size));
      this.partBytes += size;
      this.buf = this.buf.subarray(lf + 1 + size);
    }
  }
}

/** Frames one message for sending. */
export function frame(message: string, chunked: boolean): Buffer {
  const body = Buffer.from(message, 'utf8');
  if (!chunked) return Buffer.concat([body, EOM_BUF]);
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]);
}
