/**
 * NETCONF message framing over a byte stream (RFC 6242): base:1.0 messages end
 * with `]]>]]>`; after both peers advertise base:1.1, messages are chunked
 * (`\n#<len>\n<data>` … `\n##\n`). A message larger than `maxMessage` bytes,
 * or a chunk header that does not parse, is a framing error: the session
 * that sent it is closed (there is no way to find the next message reliably).
 *
 * Input is kept in one growable buffer (appends are amortised O(1), consumed
 * bytes are dropped by moving the start) and the end-of-message search
 * resumes where the last one stopped, so a large message arriving in many
 * small reads costs time linear in its size.
 */
export const EOM = ']]>]]>';
const EOM_BUF = Buffer.from(EOM);
const MAX_CHUNK = 4294967295;
/** Longest chunk header: LF # and up to 10 digits, then LF. */
const MAX_HEADER = 13;

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
  private store: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Where the next end-of-message search starts (relative to start). */
  private scanFrom = 0;
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

  /** Bytes received and not yet returned as messages. */
  get buffered(): number {
    return this.end - this.start + this.partBytes;
  }

  private get length(): number {
    return this.end - this.start;
  }

  private view(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  private consume(n: number): void {
    this.start += n;
    this.scanFrom = 0;
    if (this.start === this.end) {
      this.start = this.end = 0;
      // A large message is gone: do not keep its buffer for the rest of the session.
      if (this.store.length > 1024 * 1024) this.store = Buffer.alloc(0);
    }
  }

  /** Feeds bytes. Throws FramingError when the unframed buffer already exceeds the limit. */
  push(data: Buffer): void {
    if (this.end + data.length > this.store.length) {
      const need = this.length + data.length;
      if (need <= this.store.length && this.start > 0) {
        this.store.copy(this.store, 0, this.start, this.end);
      } else {
        const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.store.length * 2, need + 64 * 1024 * 1024), 4096));
        this.store.copy(grown, 0, this.start, this.end);
        this.store = grown;
      }
      this.end = this.length;
      this.start = 0;
    }
    data.copy(this.store, this.end);
    this.end += data.length;
    if (!this.chunked && this.length > this.maxMessage + EOM_BUF.length && this.view().indexOf(EOM_BUF, Math.max(0, this.scanFrom)) < 0) {
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
    const buf = this.view();
    const i = buf.indexOf(EOM_BUF, this.scanFrom);
    if (i < 0) {
      // The marker may straddle this read and the next one.
      this.scanFrom = Math.max(0, buf.length - EOM_BUF.length + 1);
      return undefined;
    }
    if (i > this.maxMessage) throw new FramingError(`message exceeds ${this.maxMessage} bytes`, 'too-big');
    const msg = buf.toString('utf8', 0, i);
    this.consume(i + EOM_BUF.length);
    return msg;
  }

  private nextChunked(): string | undefined {
    for (;;) {
      const buf = this.view();
      if (buf.length < 4) return undefined;
      if (buf[0] !== 0x0a || buf[1] !== 0x23) throw new FramingError('chunk header does not start with LF #', 'malformed');
      if (buf[2] === 0x23) {
        if (buf[3] !== 0x0a) throw new FramingError('end-of-chunks marker is not LF ## LF', 'malformed');
        this.consume(4);
        if (this.parts.length === 0) throw new FramingError('a message without chunks', 'malformed');
        const msg = Buffer.concat(this.parts, this.partBytes).toString('utf8');
        this.parts = [];
        this.partBytes = 0;
        return msg;
      }
      const lf = buf.subarray(0, MAX_HEADER).indexOf(0x0a, 2);
      if (lf < 0) {
        if (buf.length >= MAX_HEADER) throw new FramingError('chunk size is too long', 'malformed');
        if (!/^[0-9]*$/.test(buf.toString('latin1', 2))) throw new FramingError(`bad chunk size '${buf.toString('latin1', 2, 12)}'`, 'malformed');
        return undefined;
      }
      const digits = buf.toString('latin1', 2, lf);
      if (!/^[1-9][0-9]{0,9}$/.test(digits) || Number(digits) > MAX_CHUNK) throw new FramingError(`bad chunk size '${digits.slice(0, 12)}'`, 'malformed');
      const size = Number(digits);
      if (this.partBytes + size > this.maxMessage) throw new FramingError(`message exceeds ${this.maxMessage} bytes`, 'too-big');
      if (buf.length < lf + 1 + size) return undefined;
      // Copied out: the store's bytes are reused by later reads.
      this.parts.push(Buffer.from(buf.subarray(lf + 1, lf + 1 + size)));
      this.partBytes += size;
      this.consume(lf + 1 + size);
    }
  }
}

/** Frames one message for sending. */
export function frame(message: string, chunked: boolean): Buffer {
  const body = Buffer.from(message, 'utf8');
  if (!chunked) return Buffer.concat([body, EOM_BUF]);
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]);
}
