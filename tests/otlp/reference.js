#!/usr/bin/env node
// Builds the official OTLP/HTTP JSON body for a set of spans with the OpenTelemetry JS SDK
// (@opentelemetry/sdk-trace-base) and its exporter's serializer (@opentelemetry/otlp-transformer
// JsonTraceSerializer), so ffpod's tests can compare ffpod's own encoding of the same spans.
//
// Usage: node reference.js <description.json>   prints the request body on stdout.
//
// The description (written by the C++ test from ffpod's span model):
//   {"resource": [[key, type, value], ...], "scope": {"name": ..., "version": ...},
//    "spans": [{"traceId", "spanId", "parentSpanId" (or null), "parentRemote", "traceFlags",
//               "traceState", "name", "kind" (OTLP number), "start", "end" (Unix ns, strings),
//               "attributes": [[key, type, value], ...],
//               "events": [{"name", "time", "attributes"}], "status": {"code", "message"}}]}
// type is "string", "bool", "int", "double" or "array" (value: [[type, value], ...]).
// Every span is really started and ended through the SDK's tracer, with the given ids (a fixed
// IdGenerator), times (HrTime, exact to the nanosecond) and parent context.
'use strict';

const fs = require('fs');
const api = require('@opentelemetry/api');
const { TraceState } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');

function fail(message) {
  process.stderr.write(`reference.js: ${message}\n`);
  process.exit(2);
}

function toHrTime(nanos) {
  const n = BigInt(nanos);
  const s = n / 1000000000n;
  return [Number(s), Number(n - s * 1000000000n)];
}

function scalar(type, value, where) {
  switch (type) {
    case 'string':
    case 'bool':
      return value;
    case 'int':
      if (!Number.isSafeInteger(value)) fail(`${where}: int ${value} is not a safe JS integer`);
      return value;
    case 'double':
      // A JS number that is an integer is sent as intValue: such a double cannot be expressed.
      if (Number.isInteger(value)) fail(`${where}: double ${value} is integral`);
      return value;
    default:
      fail(`${where}: unknown type ${type}`);
  }
  return undefined;
}

function attributes(list, where) {
  const out = {};
  for (const [key, type, value] of list) {
    if (Object.prototype.hasOwnProperty.call(out, key)) fail(`${where}: duplicate key ${key}`);
    if (/^[0-9]+$/.test(key)) fail(`${where}: key ${key} would be reordered by JS`);
    out[key] =
      type === 'array' ? value.map(([t, v]) => scalar(t, v, `${where}.${key}`)) : scalar(type, value, `${where}.${key}`);
  }
  return out;
}

function main() {
  if (process.argv.length !== 3) fail('usage: node reference.js <description.json>');
  const desc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

  const ids = { traceId: undefined, spanId: undefined };
  const idGenerator = {
    generateTraceId: () => ids.traceId,
    generateSpanId: () => ids.spanId,
  };
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(attributes(desc.resource, 'resource')),
    idGenerator,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer(desc.scope.name, desc.scope.version || undefined);

  desc.spans.forEach((s, i) => {
    const where = `spans[${i}]`;
    ids.traceId = s.traceId;
    ids.spanId = s.spanId;
    let ctx = api.ROOT_CONTEXT;
    if (s.parentSpanId) {
      ctx = api.trace.setSpanContext(ctx, {
        traceId: s.traceId,
        spanId: s.parentSpanId,
        traceFlags: s.traceFlags,
        isRemote: s.parentRemote,
        traceState: s.traceState ? new TraceState(s.traceState) : undefined,
      });
    } else if (s.traceState) {
      fail(`${where}: a root span cannot carry a tracestate in the SDK`);
    }
    if (s.kind < 1 || s.kind > 5) fail(`${where}: kind ${s.kind} cannot be expressed`);
    const span = tracer.startSpan(
      s.name,
      { kind: s.kind - 1, startTime: toHrTime(s.start), attributes: attributes(s.attributes, where) },
      ctx,
    );
    const got = span.spanContext();
    if (got.traceId !== s.traceId || got.spanId !== s.spanId) fail(`${where}: ids not applied`);
    for (const e of s.events) {
      span.addEvent(e.name, attributes(e.attributes, `${where}.events`), toHrTime(e.time));
    }
    if (s.status.code !== 0) {
      span.setStatus(
        s.status.code === 2 ? { code: 2, message: s.status.message || undefined } : { code: s.status.code },
      );
    }
    span.end(toHrTime(s.end));
  });

  const spans = exporter.getFinishedSpans();
  if (spans.length !== desc.spans.length) fail(`${spans.length} spans recorded, ${desc.spans.length} expected`);
  process.stdout.write(Buffer.from(JsonTraceSerializer.serializeRequest(spans)));
}

main();
