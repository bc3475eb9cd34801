import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * OTLP/protobuf encoding of finished spans (opentelemetry-proto `trace/v1`, `collector/trace/v1`), written
 * once per span when it ends (tracing-otlp-processor.ts) instead of once per export batch. Field for field the
 * bytes OpenTelemetry's own serializer (`@opentelemetry/otlp-transformer`) writes — its unit test compares
 * them — but in one pass, trace and span ids written from hex by Buffer, and every span's bytes ready when it
 * ends, so the span object dies young instead of waiting in a batch (docs/observability.md, "Cost").
 */

const LEN = 2;
const VARINT = 0;
const FIXED64 = 1;
const FIXED32 = 5;

/** W3C trace flags plus the "has is_remote" and "is_remote" bits of OTLP's span and link `flags`. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** A growable protobuf writer; nested messages reserve one length byte and move their body if it is longer. */
export class ProtobufWriter {
  buffer: Buffer;
  pos = 0;

  constructor(initialSize = 16 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + bytes));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** A non-negative integer up to 2^53, or a negative int64 (ten bytes, two's complement). */
  varint(value: number): void {
    if (value < 0) {
      this.ensure(10);
      this.pos = writeNegativeVarint(this.buffer, this.pos, value);
      return;
    }
    this.ensure(10);
    const buffer = this.buffer;
    let pos = this.pos;
    while (value > 0x7f) {
      buffer[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buffer[pos++] = value;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.pos = this.buffer.writeUInt32LE(value >>> 0, this.pos);
  }

  double(value: number): void {
    this.ensure(8);
    this.pos = this.buffer.writeDoubleLE(value, this.pos);
  }

  /** [seconds, nanoseconds] as fixed64 nanoseconds since the epoch, without losing precision to doubles. */
  hrTime(time: HrTime): void {
    this.ensure(8);
    const [seconds, nanos] = time;
    const low16 = (seconds & 0xffff) * 1e9;
    const high = Math.floor(seconds / 0x10000) * 1e9;
    // seconds * 1e9 + nanos = high * 2^16 + low16 + nanos, split into two 32-bit words.
    const lowSum = (low16 % 0x100000000) + ((high % 0x10000) * 0x10000) + nanos;
    const low = lowSum % 0x100000000;
    const carry = Math.floor(lowSum / 0x100000000);
    const highWord = Math.floor(low16 / 0x100000000) + Math.floor(high / 0x10000) + carry;
    this.buffer.writeUInt32LE(low >>> 0, this.pos);
    this.buffer.writeUInt32LE(highWord >>> 0, this.pos + 4);
    this.pos += 8;
  }

  string(value: string): void {
    const length = value.length;
    // Short ASCII strings (names, attribute keys, most values) are copied here: cheaper than a native call.
    if (length < 128) {
      this.ensure(length + 1);
      const buffer = this.buffer;
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          pos = -1;
          break;
        }
        buffer[pos++] = code;
      }
      if (pos >= 0) {
        buffer[start] = length;
        this.pos = pos;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buffer.write(value, this.pos, bytes, 'utf8');
  }

  /** A trace or span id given in hex, written as its bytes. */
  hexBytes(hex: string): void {
    const length = hex.length >>> 1;
    this.ensure(length + 1);
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = length;
    for (let i = 0; i < length * 2; i += 2) buffer[pos++] = (hexDigit(hex.charCodeAt(i)) << 4) | hexDigit(hex.charCodeAt(i + 1));
    this.pos = pos;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a length-delimited message; pass the result to `end`. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  end(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buffer[start] = length;
      return;
    }
    let lengthBytes = 1;
    for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 0x80)) lengthBytes++;
    this.ensure(lengthBytes - 1);
    this.buffer.copyWithin(start + lengthBytes, start + 1, this.pos);
    const end = this.pos + lengthBytes - 1;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }

  /** What was written, as a view of the writer's buffer: valid until the writer is written to again. */
  written(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  /** A copy of what was written, and the writer emptied for reuse. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}

/** The value of one hex digit's char code (ids are lower-case hex; upper case is accepted too). */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

function writeNegativeVarint(buffer: Buffer, pos: number, value: number): number {
  let bits = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 9; i++) {
    buffer[pos++] = Number(bits & 0x7fn) | 0x80;
    bits >>= 7n;
  }
  buffer[pos++] = Number(bits);
  return pos;
}

function anyValue(writer: ProtobufWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writer.tag(1, LEN);
      writer.string(value);
      return;
    case 'boolean':
      writer.tag(2, VARINT);
      writer.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        writer.tag(3, VARINT);
        writer.varint(value);
      } else {
        writer.tag(4, FIXED64);
        writer.double(value);
      }
      return;
    default:
  }
  if (value instanceof Uint8Array) {
    writer.tag(7, LEN);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.tag(5, LEN);
    const array = writer.begin();
    for (const item of value) {
      writer.tag(1, LEN);
      const at = writer.begin();
      anyValue(writer, item);
      writer.end(at);
    }
    writer.end(array);
  } else if (typeof value === 'object' && value !== null) {
    writer.tag(6, LEN);
    const list = writer.begin();
    attributes(writer, value as Attributes, 1);
    writer.end(list);
  }
}

function attributes(writer: ProtobufWriter, values: Attributes, field: number): void {
  for (const key in values) {
    if (!Object.prototype.hasOwnProperty.call(values, key)) continue;
    writer.tag(field, LEN);
    const keyValue = writer.begin();
    writer.tag(1, LEN);
    writer.string(key);
    writer.tag(2, LEN);
    const value = writer.begin();
    anyValue(writer, values[key] as AttributeValue | undefined);
    writer.end(value);
    writer.end(keyValue);
  }
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function event(writer: ProtobufWriter, timed: TimedEvent): void {
  const at = writer.begin();
  writer.tag(1, FIXED64);
  writer.hrTime(timed.time);
  writer.tag(2, LEN);
  writer.string(timed.name);
  if (timed.attributes) attributes(writer, timed.attributes, 3);
  writer.tag(4, VARINT);
  writer.varint(timed.droppedAttributesCount ?? 0);
  writer.end(at);
}

/** trace_id, span_id and trace_state: fields 1-3 of both `Span` and `Span.Link`. */
function identity(writer: ProtobufWriter, context: SpanContext): void {
  writer.tag(1, LEN);
  writer.hexBytes(context.traceId);
  writer.tag(2, LEN);
  writer.hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(3, LEN);
    writer.string(traceState);
  }
}

function link(writer: ProtobufWriter, linked: Link & { droppedAttributesCount?: number }): void {
  const at = writer.begin();
  const context = linked.context;
  identity(writer, context);
  if (linked.attributes) attributes(writer, linked.attributes, 4);
  writer.tag(5, VARINT);
  writer.varint(linked.droppedAttributesCount ?? 0);
  writer.tag(6, FIXED32);
  writer.fixed32(flags(context.traceFlags, context.isRemote));
  writer.end(at);
}

/** One `Span` message, with its tag as field 2 of `ScopeSpans` (so spans of one scope can be concatenated). */
export function encodeSpan(writer: ProtobufWriter, span: ReadableSpan): void {
  writer.tag(2, LEN);
  const at = writer.begin();
  const context = span.spanContext();
  identity(writer, context);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    writer.tag(4, LEN);
    writer.hexBytes(parent.spanId);
  }
  writer.tag(5, LEN);
  writer.string(span.name);
  // OTLP's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
  writer.tag(6, VARINT);
  writer.varint(span.kind + 1);
  writer.tag(7, FIXED64);
  writer.hrTime(span.startTime);
  writer.tag(8, FIXED64);
  writer.hrTime(span.endTime);
  attributes(writer, span.attributes, 9);
  writer.tag(10, VARINT);
  writer.varint(span.droppedAttributesCount);
  for (const timed of span.events) {
    writer.tag(11, LEN);
    event(writer, timed);
  }
  writer.tag(12, VARINT);
  writer.varint(span.droppedEventsCount);
  for (const linked of span.links) {
    writer.tag(13, LEN);
    link(writer, linked);
  }
  writer.tag(14, VARINT);
  writer.varint(span.droppedLinksCount);
  writer.tag(15, LEN);
  const status = writer.begin();
  if (span.status.message) {
    writer.tag(2, LEN);
    writer.string(span.status.message);
  }
  writer.tag(3, VARINT);
  writer.varint(span.status.code);
  writer.end(status);
  writer.tag(16, FIXED32);
  writer.fixed32(flags(context.traceFlags, parent?.isRemote));
  writer.end(at);
}

interface ScopeLike {
  name: string;
  version?: string;
  schemaUrl?: string;
}

interface ResourceLike {
  attributes: Attributes;
  schemaUrl?: string;
}

/** The `ScopeSpans` fields that precede its spans: the instrumentation scope. */
export function encodeScope(scope: ScopeLike): Buffer {
  const writer = new ProtobufWriter(256);
  writer.tag(1, LEN);
  const at = writer.begin();
  writer.tag(1, LEN);
  writer.string(scope.name);
  if (scope.version) {
    writer.tag(2, LEN);
    writer.string(scope.version);
  }
  writer.end(at);
  return writer.take();
}

/** The `ResourceSpans` field that precedes its scopes: the resource (the service name). */
export function encodeResource(resource: ResourceLike): Buffer {
  const writer = new ProtobufWriter(256);
  writer.tag(1, LEN);
  const at = writer.begin();
  attributes(writer, resource.attributes, 1);
  writer.tag(2, VARINT);
  writer.varint(0);
  writer.end(at);
  return writer.take();
}

/** The spans of one scope, already encoded by `encodeSpan`. */
export interface EncodedScopeSpans {
  scope: Buffer;
  schemaUrl?: string;
  spans: Uint8Array;
}

/** An `ExportTraceServiceRequest` of one resource's spans. */
export function encodeExportRequest(resource: Buffer, resourceSchemaUrl: string | undefined, scopes: EncodedScopeSpans[]): Buffer {
  const writer = new ProtobufWriter(scopes.reduce((sum, scope) => sum + scope.spans.length + scope.scope.length + 16, resource.length + 16));
  writer.tag(1, LEN);
  const resourceSpans = writer.begin();
  writer.raw(resource);
  for (const scope of scopes) {
    writer.tag(2, LEN);
    const scopeSpans = writer.begin();
    writer.raw(scope.scope);
    writer.raw(scope.spans);
    if (scope.schemaUrl) {
      writer.tag(3, LEN);
      writer.string(scope.schemaUrl);
    }
    writer.end(scopeSpans);
  }
  if (resourceSchemaUrl) {
    writer.tag(3, LEN);
    writer.string(resourceSchemaUrl);
  }
  writer.end(resourceSpans);
  return writer.written();
}
