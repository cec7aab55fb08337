#!/usr/bin/env node
// Checks OTLP/HTTP JSON request bodies against the OTLP protobuf schema, using the protobufjs
// root that @opentelemetry/otlp-transformer@0.216.0 generated from the opentelemetry-proto files
// (installed here under the alias otlp-transformer-protobufjs).
//
// Usage: node verify.js <body.json>...   prints {"ok":true,"bodies":N,"spans":M} or exits 1.
//
// For each body:
//  1. every object key must be a field of the message type at that place (fromObject would
//     silently drop a misspelled field, so this walk comes first), with the JSON type the
//     protobuf JSON mapping gives that field (ids: lowercase hex of 16/8 bytes, as OTLP/JSON
//     requires; 64-bit integers: JSON numbers or decimal strings; enums: integers);
//  2. ExportTraceServiceRequest.fromObject (ids converted from hex), verify() must pass;
//  3. the message is encoded to protobuf binary, decoded again, and turned back into JSON,
//     which must carry the same values as the body (defaults aside).
'use strict';

const fs = require('fs');
const root = require('otlp-transformer-protobufjs/build/src/generated/root.js');

const P = root.opentelemetry.proto;
const Request = P.collector.trace.v1.ExportTraceServiceRequest;

// The message type of each field that holds a message (or a list of them).
const CHILDREN = {
  ExportTraceServiceRequest: { resourceSpans: 'ResourceSpans' },
  ResourceSpans: { resource: 'Resource', scopeSpans: 'ScopeSpans' },
  Resource: { attributes: 'KeyValue' },
  ScopeSpans: { scope: 'InstrumentationScope', spans: 'Span' },
  InstrumentationScope: { attributes: 'KeyValue' },
  Span: { attributes: 'KeyValue', events: 'Event', links: 'Link', status: 'Status' },
  Event: { attributes: 'KeyValue' },
  Link: { attributes: 'KeyValue' },
  Status: {},
  KeyValue: { value: 'AnyValue' },
  AnyValue: { arrayValue: 'ArrayValue', kvlistValue: 'KeyValueList' },
  ArrayValue: { values: 'AnyValue' },
  KeyValueList: { values: 'KeyValue' },
};
const TYPES = {
  ExportTraceServiceRequest: Request,
  ResourceSpans: P.trace.v1.ResourceSpans,
  Resource: P.resource.v1.Resource,
  ScopeSpans: P.trace.v1.ScopeSpans,
  InstrumentationScope: P.common.v1.InstrumentationScope,
  Span: P.trace.v1.Span,
  Event: P.trace.v1.Span.Event,
  Link: P.trace.v1.Span.Link,
  Status: P.trace.v1.Status,
  KeyValue: P.common.v1.KeyValue,
  AnyValue: P.common.v1.AnyValue,
  ArrayValue: P.common.v1.ArrayValue,
  KeyValueList: P.common.v1.KeyValueList,
};
const REPEATED = new Set([
  'resourceSpans', 'scopeSpans', 'spans', 'attributes', 'events', 'links', 'values',
]);
const ID_BYTES = { traceId: 16, spanId: 8, parentSpanId: 8 };
const INT64 = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'intValue']);
const UINT32 = new Set([
  'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount', 'flags',
]);
const ENUMS = { kind: [0, 5], code: [0, 2] };
const STRINGS = new Set(['name', 'version', 'key', 'stringValue', 'message', 'traceState', 'schemaUrl']);

function fail(where, message) {
  throw new Error(`${where}: ${message}`);
}

function fieldsOf(typeName) {
  const proto = TYPES[typeName].prototype;
  return new Set(
    Object.getOwnPropertyNames(proto).filter((k) => {
      const d = Object.getOwnPropertyDescriptor(proto, k);
      return k !== 'constructor' && 'value' in d && typeof d.value !== 'function';
    }),
  );
}

function checkScalar(where, key, value) {
  if (key in ID_BYTES) {
    const re = new RegExp(`^[0-9a-f]{${2 * ID_BYTES[key]}}$`);
    if (typeof value !== 'string' || !re.test(value)) fail(where, `${key} must be ${ID_BYTES[key]} bytes of lowercase hex`);
  } else if (INT64.has(key)) {
    const ok = (typeof value === 'number' && Number.isSafeInteger(value)) ||
      (typeof value === 'string' && /^-?[0-9]+$/.test(value));
    if (!ok) fail(where, `${key} must be a 64-bit integer (number or decimal string)`);
    if (key.endsWith('UnixNano') && (typeof value !== 'string' || BigInt(value) <= 0n)) {
      fail(where, `${key} must be a positive decimal string`);
    }
  } else if (UINT32.has(key)) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) fail(where, `${key} must be a uint32`);
  } else if (key in ENUMS) {
    const [lo, hi] = ENUMS[key];
    if (!Number.isInteger(value) || value < lo || value > hi) fail(where, `${key} must be an enum number ${lo}..${hi}`);
  } else if (key === 'boolValue') {
    if (typeof value !== 'boolean') fail(where, 'boolValue must be a boolean');
  } else if (key === 'doubleValue') {
    if (typeof value !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(value)) {
      fail(where, 'doubleValue must be a number, "NaN", "Infinity" or "-Infinity"');
    }
  } else if (STRINGS.has(key)) {
    if (typeof value !== 'string') fail(where, `${key} must be a string`);
  } else {
    fail(where, `no rule for scalar field ${key}`);
  }
}

function walk(typeName, obj, where) {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) fail(where, `${typeName} must be an object`);
  const known = fieldsOf(typeName);
  const children = CHILDREN[typeName];
  let oneof = 0;
  for (const [key, value] of Object.entries(obj)) {
    const at = `${where}.${key}`;
    if (!known.has(key)) fail(at, `is not a field of ${typeName}`);
    if (typeName === 'AnyValue') oneof++;
    const child = children[key];
    if (REPEATED.has(key)) {
      if (!Array.isArray(value)) fail(at, 'must be an array');
      value.forEach((v, i) => (child ? walk(child, v, `${at}[${i}]`) : fail(at, 'unexpected list')));
    } else if (child) {
      walk(child, value, at);
    } else {
      checkScalar(at, key, value);
    }
  }
  if (typeName === 'AnyValue' && oneof !== 1) fail(where, 'AnyValue must hold exactly one value');
}

// Converts the OTLP/JSON ids (hex) to bytes for protobufjs, in place.
function idsToBytes(obj) {
  if (Array.isArray(obj)) return obj.forEach(idsToBytes);
  if (typeof obj !== 'object' || obj === null) return undefined;
  for (const key of Object.keys(obj)) {
    if (key in ID_BYTES && typeof obj[key] === 'string') obj[key] = Buffer.from(obj[key], 'hex');
    else idsToBytes(obj[key]);
  }
  return undefined;
}

// A comparable form: ids as hex, 64-bit integers as strings, default values removed.
function canonical(value, key) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'string' && key in ID_BYTES) return value;
  if (INT64.has(key)) return String(value);
  if (Array.isArray(value)) {
    const list = value.map((v) => canonical(v, key));
    return list.length ? list : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const out = {};
    for (const k of Object.keys(value).sort()) {
      const c = canonical(value[k], k);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === 0 || value === '' || value === false || value === null) return undefined;
  return value;
}

function verifyBody(text, where) {
  const body = JSON.parse(text);
  walk('ExportTraceServiceRequest', body, where);
  const expected = JSON.stringify(canonical(body, ''));

  const forProto = JSON.parse(text);
  idsToBytes(forProto);
  const message = Request.fromObject(forProto);
  const err = Request.verify(message);
  if (err) fail(where, `verify: ${err}`);
  const bytes = Request.encode(message).finish();
  const decoded = Request.decode(bytes);
  const back = Request.toObject(decoded, { longs: String, enums: Number, bytes: Buffer, json: true });
  const got = JSON.stringify(canonical(back, ''));
  if (got !== expected) fail(where, `protobuf round trip differs:\n  body:    ${expected}\n  decoded: ${got}`);

  let spans = 0;
  for (const rs of decoded.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
  return spans;
}

function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node verify.js <body.json>...\n');
    process.exit(2);
  }
  let spans = 0;
  try {
    for (const f of files) spans += verifyBody(fs.readFileSync(f, 'utf8'), f);
  } catch (e) {
    process.stderr.write(`verify.js: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ ok: true, bodies: files.length, spans }) + '\n');
}

main();
