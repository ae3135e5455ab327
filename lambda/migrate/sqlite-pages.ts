/**
 * A direct reader of SQLite's file format (https://sqlite.org/fileformat2.html) for the one thing the migration does
 * most: walking a rowid table's B-tree in rowid order and handing over each row's record bytes. SQLite in
 * WebAssembly spends about 3 µs a row on the same walk (the VM interprets every expression of the fast path's select);
 * decoding records in JavaScript takes a fraction of that, and the values arrive with their exact storage class.
 *
 * Deliberately narrow: UTF-8 databases in rollback-journal mode (no WAL), rowid tables, read-only. Anything else —
 * another text encoding, a WAL-mode header, an unknown page type, a page number out of range, a B-tree deeper than
 * SQLite allows — is refused (`open` returns null, or the cursor throws) and the caller reads through SQLite instead.
 * The schema, row counts and every row the fast path cannot vouch for still come from SQLite itself.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Thrown when the file is not what SQLite would have written: the caller reports it, it never guesses. */
export class PageFormatError extends Error {
  override readonly name = 'PageFormatError';
}

const CHUNK = 1 << 20;
const MAX_DEPTH = 40;

/** Reads a big-endian varint at `p` (1–9 bytes). Sets `varint.end`; values beyond 2^53 come back as bigint. */
export const varint = { end: 0 };
export function readVarint(b: Uint8Array, p: number): number | bigint {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = b[p + i] as number;
    if (c < 0x80) {
      varint.end = p + i + 1;
      // Seven bits per byte: up to 7 bytes (49 bits) is exact in a double; 8 bytes (56 bits) may not be.
      return i < 7 ? v * 128 + c : exactVarint(b, p, i + 1);
    }
    v = v * 128 + (c & 0x7f);
  }
  varint.end = p + 9;
  return exactVarint(b, p, 9);
}

function exactVarint(b: Uint8Array, p: number, n: number): number | bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) {
    const c = b[p + i] as number;
    v = i === 8 ? (v << 8n) | BigInt(c) : (v << 7n) | BigInt(c & 0x7f);
  }
  const signed = BigInt.asIntN(64, v);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}

/** An open SQLite file, read page by page through a small cache of 1 MiB chunks. Close it when done. */
export class PageFile {
  readonly pageSize: number;
  /** Bytes of each page SQLite uses (the page size less the reserved tail). */
  readonly usable: number;
  readonly pageCount: number;
  private readonly chunks: { start: number; bytes: Buffer }[] = [];

  private constructor(
    private readonly fd: number,
    header: Buffer,
    size: number,
  ) {
    const raw = header.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    this.usable = this.pageSize - (header[20] as number);
    this.pageCount = Math.floor(size / this.pageSize);
  }

  /**
   * Opens `path` when this reader can read it exactly: a SQLite 3 header, UTF-8 text, legacy (non-WAL) read and
   * write versions, a power-of-two page size. Otherwise null: read through SQLite.
   */
  static open(path: string): PageFile | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    try {
      const header = Buffer.alloc(100);
      const size = fstatSync(fd).size;
      if (readSync(fd, header, 0, 100, 0) !== 100) throw new Error('short header');
      const raw = header.readUInt16BE(16);
      const pageSize = raw === 1 ? 65536 : raw;
      const ok =
        header.toString('latin1', 0, 16) === 'SQLite format 3\u0000' &&
        pageSize >= 512 &&
        (pageSize & (pageSize - 1)) === 0 &&
        header[18] === 1 &&
        header[19] === 1 &&
        header.readUInt32BE(56) === 1 &&
        pageSize - (header[20] as number) >= 480;
      if (!ok) throw new Error('unsupported');
      return new PageFile(fd, header, size);
    } catch {
      closeSync(fd);
      return null;
    }
  }

  close(): void {
    closeSync(this.fd);
    this.chunks.length = 0;
  }

  /** Page `n` (1-based). The view stays valid after later reads (a chunk is never overwritten, only dropped). */
  page(n: number): Buffer {
    if (!Number.isInteger(n) || n < 1 || n > this.pageCount) {
      throw new PageFormatError(`page ${n} is outside the file (${this.pageCount} pages)`);
    }
    const offset = (n - 1) * this.pageSize;
    const start = offset - (offset % CHUNK);
    let chunk = this.chunks.find((c) => c.start === start);
    if (!chunk) {
      const bytes = Buffer.allocUnsafe(CHUNK);
      const got = readSync(this.fd, bytes, 0, CHUNK, start);
      chunk = { start, bytes: bytes.subarray(0, got) };
      this.chunks.unshift(chunk);
      if (this.chunks.length > 4) this.chunks.pop();
    }
    const at = offset - start;
    if (at + this.pageSize > chunk.bytes.length) throw new PageFormatError(`page ${n} is truncated`);
    return chunk.bytes.subarray(at, at + this.pageSize);
  }
}

interface Frame {
  readonly page: Buffer;
  /** Offset of the B-tree page header (100 on page 1). */
  readonly head: number;
  readonly cells: number;
  /** Next child to visit: 0..cells-1 are the cells' left children, `cells` the right-most pointer. */
  next: number;
}

/**
 * Walks a table B-tree in rowid order, starting after a rowid. After `next()` returns true, `rowid` is the row's key
 * and `payload[start, end)` its record (overflow pages already joined).
 */
export class TableCursor {
  rowid: number | bigint = 0;
  payload: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  private readonly stack: Frame[] = [];
  private leaf: Frame | null = null;
  private readonly maxLocal: number;
  private readonly minLocal: number;

  constructor(
    private readonly file: PageFile,
    root: number,
    private readonly afterKey: number | bigint | null,
  ) {
    const u = file.usable;
    this.maxLocal = u - 35;
    this.minLocal = Math.floor(((u - 12) * 32) / 255) - 23;
    this.descend(root);
  }

  private frame(n: number): Frame {
    const page = this.file.page(n);
    const head = n === 1 ? 100 : 0;
    const type = page[head];
    if (type !== 0x0d && type !== 0x05) {
      throw new PageFormatError(`page ${n} is not a table B-tree page (type ${type})`);
    }
    const cells = ((page[head + 3] as number) << 8) | (page[head + 4] as number);
    return { page, head, cells, next: 0 };
  }

  /** Goes down from page `n` to the leaf holding the first row after `afterKey` (or the leftmost leaf). */
  private descend(n: number): void {
    let frame = this.frame(n);
    while (frame.page[frame.head] === 0x05) {
      if (this.stack.length >= MAX_DEPTH) throw new PageFormatError('table B-tree deeper than SQLite allows');
      if (this.afterKey !== null) {
        // Child i holds keys <= key i: skip every child whose keys are all <= afterKey.
        let i = 0;
        while (i < frame.cells && this.interiorKey(frame, i) <= this.afterKey) i++;
        frame.next = i;
      }
      this.stack.push(frame);
      frame = this.frame(this.childAt(frame, frame.next++));
    }
    this.leaf = frame;
  }

  private cellOffset(f: Frame, i: number, headerSize: number): number {
    const p = f.head + headerSize + 2 * i;
    const at = ((f.page[p] as number) << 8) | (f.page[p + 1] as number);
    if (at < f.head + headerSize || at >= f.page.length) throw new PageFormatError('cell pointer outside its page');
    return at;
  }

  private childAt(f: Frame, i: number): number {
    const b = f.page;
    return readU32(b, i < f.cells ? this.cellOffset(f, i, 12) : f.head + 8);
  }

  private interiorKey(f: Frame, i: number): number | bigint {
    return readVarint(f.page, this.cellOffset(f, i, 12) + 4);
  }

  /** Moves to the next row; false at the end of the table. */
  next(): boolean {
    for (;;) {
      const leaf = this.leaf;
      if (leaf && leaf.next < leaf.cells) {
        this.readCell(leaf, leaf.next++);
        if (this.afterKey !== null && this.rowid <= this.afterKey) continue;
        return true;
      }
      this.leaf = null;
      // Climb to the nearest ancestor with a child left, then go down its leftmost path.
      let parent = this.stack[this.stack.length - 1];
      while (parent && parent.next > parent.cells) {
        this.stack.pop();
        parent = this.stack[this.stack.length - 1];
      }
      if (!parent) return false;
      let frame = this.frame(this.childAt(parent, parent.next++));
      while (frame.page[frame.head] === 0x05) {
        if (this.stack.length >= MAX_DEPTH) throw new PageFormatError('table B-tree deeper than SQLite allows');
        this.stack.push(frame);
        frame = this.frame(this.childAt(frame, frame.next++));
      }
      this.leaf = frame;
    }
  }

  private readCell(leaf: Frame, i: number): void {
    const b = leaf.page;
    let p = this.cellOffset(leaf, i, 8);
    const size = readVarint(b, p);
    p = varint.end;
    this.rowid = readVarint(b, p);
    p = varint.end;
    if (typeof size !== 'number') throw new PageFormatError('record larger than SQLite allows');
    if (size <= this.maxLocal) {
      if (p + size > b.length) throw new PageFormatError('record runs past its page');
      this.payload = b;
      this.start = p;
      this.end = p + size;
      return;
    }
    // Spilled record: the local part, then a chain of overflow pages (4-byte next pointer + usable - 4 bytes).
    const u = this.file.usable;
    const k = this.minLocal + ((size - this.minLocal) % (u - 4));
    const local = k <= this.maxLocal ? k : this.minLocal;
    const out = Buffer.allocUnsafe(size);
    out.set(b.subarray(p, p + local), 0);
    let got = local;
    let next = readU32(b, p + local);
    let hops = 0;
    while (got < size) {
      if (++hops > this.file.pageCount) throw new PageFormatError('overflow chain loops');
      const o = this.file.page(next);
      const take = Math.min(size - got, u - 4);
      out.set(o.subarray(4, 4 + take), got);
      got += take;
      next = readU32(o, 0);
    }
    this.payload = out;
    this.start = 0;
    this.end = size;
  }
}

function readU32(b: Uint8Array, p: number): number {
  return (
    (((b[p] as number) << 24) >>> 0) + ((b[p + 1] as number) << 16) + ((b[p + 2] as number) << 8) + (b[p + 3] as number)
  );
}
