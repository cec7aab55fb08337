#!/usr/bin/env node
// Checks that the chart (and the dashboard and docs that go with it) speaks ffpod's language:
// every name it uses exists in the C++ sources, read from the sources themselves, so a rename
// in the code breaks this check until the chart follows.
//
//   flags and FFPOD_* variables   parsers/config/flag_table.cc (FFPOD_<FLAG_IN_UPPER_SNAKE>)
//   metric names and labels       supervisor/telemetry/ffpod_metrics.cc (registry_.Add* calls)
//   HTTP paths                    supervisor/net/http_server.cc (path -> provider)
//   exit codes, reasons           parsers/ffmpeg/reasons.cc (the table of docs/failure-reasons.md)
//   Redis key of the pending list supervisor/queue/job_queue.h (QueueKeys::Pending)
//   OTEL_* variables              parsers/config/otel_variables.cc (what otel_config.cc reads)
//   Downward API variables        parsers/**/*.cc, supervisor/**/*.cc
//   alert runbooks                docs/*.md headings (each alert's runbook_url anchor)
//
// It also checks what ties the objects together: the grace period passed to ffpod equals the
// pod's, probes and scrapes reach the listener's port and the right paths, the KEDA list is the
// worker's queue, the podFailurePolicy matches the reason table, GPU pools require encoders,
// every container is restricted, each pod's service.instance.id is its UID. With --ffpod
// BINARY, each ffpod container's arguments and FFPOD_* values are run through the real flag
// parser (`ffpod <command> ... --help` reads the environment first and exits 2 on a bad value).
//
// Usage: node contract.js --source-root DIR [--ffpod BIN] [--dashboard F.json] [--doc F.md]...
//                         [--images DIR] MANIFESTS.yaml...
//   (--images: each DIR/ffmpeg-*/Dockerfile agrees with the chart's defaults, see checkImages)
//        node contract.js --self-test --source-root DIR MANIFESTS.yaml...
//   (the self-test renames things in a copy of the sources and expects each to be caught)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { loadManifests, describe, podSpec, isFfpodContainer, envMap } = require('./lib');

// ---------------------------------------------------------------- what the sources say

function read(root, rel) {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

// Every .cc and .h file below root/rel, as paths relative to root.
function sourceFiles(root, rel) {
  const out = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(root, r));
    else if (/\.(cc|h)$/.test(e.name)) out.push(r);
  }
  return out;
}

function flagEnvVar(flag) {
  return 'FFPOD_' + flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

// Which commands each command bit stands for: the bits and the composites of config_table.h
// (`kRunCommand = 1U << 0, ...`, `kQueueCommands = kWorkerCommand | ...`), the short names of
// flag_table.cc (`kRun = kRunCommand`), the cases of CommandBit(Command) in flag_table.cc and
// the names of CommandName(Command) in config.cc.
function parseCommandBits(root) {
  const header = read(root, 'parsers/config/config_table.h');
  const table = read(root, 'parsers/config/flag_table.cc');
  const names = new Map();  // Command::kX -> "x"
  for (const m of read(root, 'parsers/config/config.cc').matchAll(/case (Command::k\w+):\s*return "([a-z]+)";/g)) {
    names.set(m[1], m[2]);
  }
  const bits = new Map();  // kRunCommand -> Set of command names
  for (const m of header.matchAll(/(k\w+Command) = 1U << \d+/g)) bits.set(m[1], new Set());
  if (bits.size < 5 || names.size < 5) throw new Error('config_table.h: the command bits changed shape');
  const body = (table.match(/CommandSet CommandBit\(Command c\) \{([\s\S]*?)\n\}/) || [])[1] || '';
  let pending = [];
  for (const m of body.matchAll(/case (Command::k\w+):|return (k\w+);/g)) {
    if (m[1]) pending.push(m[1]);
    else {
      for (const c of pending) bits.get(m[2]).add(names.get(c));
      pending = [];
    }
  }
  for (const m of header.matchAll(/(k\w+) =\s*(k\w+(?:\s*\|\s*k\w+)+);/g)) {
    const all = new Set();
    for (const b of m[2].split('|').map((x) => x.trim())) for (const c of bits.get(b) || []) all.add(c);
    bits.set(m[1], all);
  }
  for (const m of table.matchAll(/\b(k\w+) = (k\w+Command)\b/g)) bits.set(m[1], bits.get(m[2]));
  return bits;
}

function parseFlags(root) {
  const text = read(root, 'parsers/config/flag_table.cc');
  const bits = parseCommandBits(root);
  const flags = new Map();  // env var -> {flag, commands:Set, isSwitch}
  const re = /\{"(--[a-z0-9-]+)",\s*([A-Za-z |]+?),\s*"([^"]*)"/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const commands = new Set();
    for (const b of m[2].split('|').map((x) => x.trim())) {
      if (!bits.has(b)) throw new Error(`flag_table.cc: unknown command bit ${b} for ${m[1]}`);
      bits.get(b).forEach((c) => commands.add(c));
    }
    flags.set(flagEnvVar(m[1]), { flag: m[1], commands, isSwitch: m[3] === '' });
  }
  if (flags.size < 20) throw new Error(`flag_table.cc: found only ${flags.size} flags; the table format changed`);
  return flags;
}

function parseMetrics(root) {
  const text = read(root, 'supervisor/telemetry/ffpod_metrics.cc');
  const metrics = new Map();  // name -> {type, labels:Set}
  const parts = text.split(/registry_\.Add(Counter|Gauge|Histogram)\(/);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const type = parts[i].toLowerCase();
    const chunk = parts[i + 1];
    const name = (chunk.match(/"(ffpod_[a-z0-9_]+)"/) || [])[1];
    if (!name) continue;
    const labels = new Set();
    if (/SlotLabels\(/.test(chunk)) {
      // Every label SlotLabels may add (slot; queue and job_id when their options are on).
      const slot = text.match(/std::vector<std::string> SlotLabels\([^)]*\) \{([\s\S]*?)\n\}/);
      if (!slot || !/"slot"/.test(slot[1])) throw new Error('ffpod_metrics.cc: SlotLabels changed shape');
      for (const l of slot[1].match(/"([a-z_]+)"/g) || []) labels.add(l.slice(1, -1));
    } else {
      const end = chunk.search(/\)\)[,\s]/);
      const call = end >= 0 ? chunk.slice(0, end) : chunk;
      const list = call.match(/\{\s*("[a-z_]+"(\s*,\s*"[a-z_]+")*)\s*\}/);
      if (list) for (const l of list[1].match(/"([a-z_]+)"/g)) labels.add(l.slice(1, -1));
    }
    metrics.set(name, { type, labels });
  }
  if (metrics.size < 20) throw new Error(`ffpod_metrics.cc: found only ${metrics.size} metrics`);
  return metrics;
}

function parseHttpPaths(root) {
  const text = read(root, 'supervisor/net/http_server.cc');
  const byProvider = new Map();  // provider -> path
  const re = /path == "(\/[a-z]*)" && p\.([a-z_]+)/g;
  let m;
  while ((m = re.exec(text)) !== null) byProvider.set(m[2], m[1]);
  return byProvider;
}

function parseReasons(root) {
  const text = read(root, 'parsers/ffmpeg/reasons.cc');
  const reasons = new Map();  // name -> {retryable, countsAsAttempt, code}
  const re = /\{Reason::k\w+,\s*"([a-z_]+)",\s*(true|false),\s*(true|false),\s*(-?\d+)\}/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    reasons.set(m[1], { retryable: m[2] === 'true', countsAsAttempt: m[3] === 'true', code: +m[4] });
  }
  if (reasons.size < 10) throw new Error(`reasons.cc: found only ${reasons.size} reasons`);
  return reasons;
}

function parsePendingSuffix(root) {
  const m = read(root, 'supervisor/queue/job_queue.h').match(/Pending\(\) const \{ return q \+ "([^"]+)"; \}/);
  if (!m) throw new Error('job_queue.h: QueueKeys::Pending() changed shape');
  return m[1];
}

// OtelVariables(), the list of what ParseOtelConfig reads (config_docs_test.cc holds the
// parser to it); "OTEL_EXPORTER_OTLP_[TRACES_]X" stands for both forms of X.
function knowsOtelVar(root, name) {
  const text = read(root, 'parsers/config/otel_variables.cc');
  if (text.includes(`{"${name}"`)) return true;
  const m = name.match(/^OTEL_EXPORTER_OTLP_(?:TRACES_)?([A-Z_]+)$/);
  return m !== null && text.includes(`{"OTEL_EXPORTER_OTLP_[TRACES_]${m[1]}"`);
}

function knowsDownwardVar(root, name) {
  return ['parsers', 'supervisor'].flatMap((rel) => sourceFiles(root, rel))
    .filter((f) => f.endsWith('.cc'))
    .some((f) => read(root, f).includes(`"${name}"`));
}

// ---------------------------------------------------------------- PromQL names

// Labels every scraped series has (prometheus-operator's target labels and the chart's own
// relabelings).
const TARGET_LABELS = new Set(['namespace', 'pod', 'container', 'job', 'instance', 'endpoint',
  'service', 'node', 'component']);

function checkPromQL(expr, where, metrics, problems, extraLabels = []) {
  const used = [];
  const re = /\b(ffpod_[a-z0-9_]+)\b(\s*\{([^}]*)\})?/g;
  let m;
  while ((m = re.exec(expr)) !== null) {
    let name = m[1];
    let info = metrics.get(name);
    let extra = [];
    if (!info) {
      const h = name.match(/^(.*)_(bucket|sum|count)$/);
      if (h && metrics.get(h[1]) && metrics.get(h[1]).type === 'histogram') {
        info = metrics.get(h[1]);
        if (h[2] === 'bucket') extra = ['le'];
      }
    }
    if (!info) {
      problems.push(`${where}: metric ${name} does not exist in supervisor/telemetry/ffpod_metrics.cc`);
      continue;
    }
    const labels = new Set([...info.labels, ...extra]);
    used.push(labels);
    for (const lm of (m[3] || '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) {
      if (!labels.has(lm[1]) && !TARGET_LABELS.has(lm[1])) {
        problems.push(`${where}: ${name} has no label ${lm[1]} (labels: ${[...labels].join(', ') || 'none'})`);
      }
    }
  }
  const all = new Set([...TARGET_LABELS, ...extraLabels]);
  for (const s of used) for (const l of s) all.add(l);
  for (const g of expr.matchAll(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of g[2].split(',').map((x) => x.trim()).filter(Boolean)) {
      if (!all.has(l)) problems.push(`${where}: "${g[1]} (${g[2]})" names ${l}, which no series in the expression has`);
    }
  }
  return all;
}

// ---------------------------------------------------------------- manifest checks

const EXPECTED_FIELD_REFS = { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace',
  NODE_NAME: 'spec.nodeName' };

function checkRestricted(o, spec, c, problems) {
  const where = `${describe(o)} container ${c.name}`;
  const psc = spec.securityContext || {};
  const sc = c.securityContext || {};
  const pick = (k) => (sc[k] !== undefined ? sc[k] : psc[k]);
  if (pick('runAsNonRoot') !== true) problems.push(`${where}: runAsNonRoot is not true`);
  if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
  if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
  if (!(sc.capabilities && (sc.capabilities.drop || []).includes('ALL'))) {
    problems.push(`${where}: capabilities do not drop ALL`);
  }
  if (sc.capabilities && sc.capabilities.add && sc.capabilities.add.length) {
    problems.push(`${where}: adds capabilities`);
  }
  const seccomp = (sc.seccompProfile || psc.seccompProfile || {}).type;
  if (seccomp !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
}

function checkFfpodContainer(o, spec, c, src, problems, runs) {
  const where = `${describe(o)} container ${c.name}`;
  const args = c.args || [];
  const command = args[0];
  const env = envMap(c);
  if (!['worker', 'run'].includes(command)) {
    problems.push(`${where}: runs "ffpod ${command}", expected worker or run`);
    return;
  }

  // Every FFPOD_* variable is a flag of this command.
  for (const [name] of env) {
    if (!name.startsWith('FFPOD_')) continue;
    const flag = src.flags.get(name);
    if (!flag) problems.push(`${where}: ${name} is not the variable of any flag in parsers/config/flag_table.cc`);
    else if (!flag.commands.has(command)) {
      problems.push(`${where}: ${name} (${flag.flag}) is not a flag of ffpod ${command}`);
    }
  }
  for (const a of args.slice(1)) {
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const name = flagEnvVar(a.split('=')[0]);
    const flag = src.flags.get(name);
    if (!flag || !flag.commands.has(command)) problems.push(`${where}: argument ${a} is not a flag of ffpod ${command}`);
  }
  for (const [name, e] of env) {
    if (name.startsWith('OTEL_') && !knowsOtelVar(src.root, name)) {
      problems.push(`${where}: ${name} is not read by parsers/config/otel_config.cc (otel_variables.cc)`);
    }
  }

  // The Downward API variables ffpod reads.
  for (const [name, fieldPath] of Object.entries(EXPECTED_FIELD_REFS)) {
    const e = env.get(name);
    if (!e || !e.valueFrom || !e.valueFrom.fieldRef || e.valueFrom.fieldRef.fieldPath !== fieldPath) {
      problems.push(`${where}: ${name} must come from the Downward API field ${fieldPath}`);
    }
    if (!knowsDownwardVar(src.root, name)) problems.push(`${where}: ${name} is not read anywhere in parsers/ or supervisor/`);
  }

  // Each pod is its own service instance: service.instance.id is the pod's UID, expanded by the
  // kubelet, which only expands variables defined earlier in the list.
  const attrs = env.get('OTEL_RESOURCE_ATTRIBUTES');
  if (attrs && attrs.value !== undefined) {
    const ids = attrs.value.split(',').map((m) => m.trim()).filter((m) => m.startsWith('service.instance.id='));
    const names = (c.env || []).map((e) => e.name);
    if (ids.length === 0 || ids[ids.length - 1] !== 'service.instance.id=$(POD_UID)') {
      problems.push(`${where}: OTEL_RESOURCE_ATTRIBUTES does not set service.instance.id=$(POD_UID): every pod would report the same instance`);
    } else if (!(names.indexOf('POD_UID') >= 0 && names.indexOf('POD_UID') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'))) {
      problems.push(`${where}: POD_UID is not defined before OTEL_RESOURCE_ATTRIBUTES, so $(POD_UID) is not expanded`);
    }
  }

  // The grace period ffpod drains within is the pod's.
  const grace = env.get('FFPOD_GRACE_PERIOD');
  if (!grace || String(spec.terminationGracePeriodSeconds) !== grace.value) {
    problems.push(`${where}: FFPOD_GRACE_PERIOD (${grace && grace.value}) differs from terminationGracePeriodSeconds (${spec.terminationGracePeriodSeconds})`);
  }
  const margin = env.get('FFPOD_DRAIN_MARGIN');
  if (margin && grace && !(Number(margin.value) < Number(grace.value))) {
    problems.push(`${where}: FFPOD_DRAIN_MARGIN ${margin.value} is not below the grace period ${grace.value}`);
  }

  // The listener, the probes and the port they use.
  const listen = env.get('FFPOD_LISTEN');
  const port = listen && listen.value ? Number(listen.value.slice(listen.value.lastIndexOf(':') + 1)) : NaN;
  const ports = new Map((c.ports || []).map((p) => [p.name, p.containerPort]));
  const probeWant = { startupProbe: 'healthy', livenessProbe: 'healthy', readinessProbe: 'readiness' };
  for (const [probe, provider] of Object.entries(probeWant)) {
    const p = c[probe];
    if (!p) {
      if (command === 'worker' || probe === 'livenessProbe') problems.push(`${where}: no ${probe}`);
      continue;
    }
    const want = src.paths.get(provider);
    if (!p.httpGet || p.httpGet.path !== want) {
      problems.push(`${where}: ${probe} path ${p.httpGet && p.httpGet.path} is not the ${provider} path ${want} of supervisor/net/http_server.cc`);
    }
    const target = typeof p.httpGet.port === 'string' ? ports.get(p.httpGet.port) : p.httpGet.port;
    if (target !== port) problems.push(`${where}: ${probe} port ${p.httpGet.port} is not the FFPOD_LISTEN port ${port}`);
  }
  if (ports.get('http') !== port) problems.push(`${where}: containerPort "http" (${ports.get('http')}) is not the FFPOD_LISTEN port ${port}`);

  // The scratch directory is a size-limited emptyDir.
  const mount = (c.volumeMounts || []).find((m) => m.mountPath === c.workingDir);
  const vol = mount && (spec.volumes || []).find((v) => v.name === mount.name);
  if (!vol || !vol.emptyDir || !vol.emptyDir.sizeLimit) {
    problems.push(`${where}: workingDir ${c.workingDir} is not a size-limited emptyDir`);
  }

  // GPU pools require their encoders, with the runtime they need.
  const limits = (c.resources && c.resources.limits) || {};
  const nvidia = Object.keys(limits).some((k) => k.startsWith('nvidia.com/'));
  const intel = Object.keys(limits).some((k) => k.startsWith('gpu.intel.com/'));
  if (command === 'worker' && (nvidia || intel) && !(env.get('FFPOD_REQUIRE_ENCODERS') || {}).value) {
    problems.push(`${where}: a GPU worker without FFPOD_REQUIRE_ENCODERS is ready without a working encoder`);
  }
  if (nvidia) {
    const caps = (env.get('NVIDIA_DRIVER_CAPABILITIES') || {}).value || '';
    if (!/(^|,)(video|all)(,|$)/.test(caps)) problems.push(`${where}: NVIDIA_DRIVER_CAPABILITIES lacks video (NVENC/NVDEC)`);
    if (!spec.runtimeClassName) problems.push(`${where}: NVIDIA pod without runtimeClassName`);
  }
  if (intel && !((spec.securityContext || {}).supplementalGroups || []).length) {
    problems.push(`${where}: Intel pod without the render group as a supplemental group`);
  }

  // The real parser gets the same flags and values (secrets and Downward API stubbed).
  const runEnv = { PATH: process.env.PATH };
  for (const [name, e] of env) {
    if (!name.startsWith('FFPOD_')) continue;
    if (e.value !== undefined) runEnv[name] = e.value;
    else if (e.valueFrom && e.valueFrom.secretKeyRef) runEnv[name] = 'redis://:secret@127.0.0.1:6379/0';
    else if (e.valueFrom && e.valueFrom.fieldRef) runEnv[name] = 'ffpod-7c9d8-x2x9z';
  }
  const argv = args.slice();
  const dashdash = argv.indexOf('--');
  if (dashdash >= 0) argv.splice(dashdash, 0, '--help');
  else argv.push('--help');
  runs.push({ where, argv, env: runEnv });
}

function checkJobPolicy(o, src, problems) {
  const where = describe(o);
  const spec = o.doc.spec;
  const pod = spec.template.spec;
  const ffpod = pod.containers.find(isFfpodContainer);
  const args = (ffpod && ffpod.args) || [];
  const classified = args.some((a, i) => (a === '--exit-codes' && args[i + 1] === 'classified') ||
    a === '--exit-codes=classified');
  const rules = (spec.podFailurePolicy || {}).rules;
  if (!rules) return;
  if (!classified) problems.push(`${where}: a podFailurePolicy on exit codes needs ffpod run --exit-codes classified`);
  if (pod.restartPolicy !== 'Never') problems.push(`${where}: podFailurePolicy needs restartPolicy Never`);
  const codes = (action) => rules.filter((r) => r.action === action && r.onExitCodes)
    .flatMap((r) => {
      if (r.onExitCodes.containerName !== ffpod.name) problems.push(`${where}: rule for container ${r.onExitCodes.containerName}, ffpod runs in ${ffpod.name}`);
      if (r.onExitCodes.operator !== 'In') problems.push(`${where}: exit-code rules should use operator In`);
      return r.onExitCodes.values;
    }).sort((a, b) => a - b);
  const nonRetryable = [...src.reasons.values()].filter((r) => !r.retryable && r.code > 0).map((r) => r.code);
  const wantFail = [2, ...nonRetryable].sort((a, b) => a - b);  // 2: ffpod's own usage error
  const gotFail = codes('FailJob');
  if (JSON.stringify(gotFail) !== JSON.stringify(wantFail)) {
    problems.push(`${where}: FailJob exit codes ${JSON.stringify(gotFail)} differ from the non-retryable reasons of parsers/ffmpeg/reasons.cc ${JSON.stringify(wantFail)} (plus 2)`);
  }
  const notAttempts = [...src.reasons.values()].filter((r) => !r.countsAsAttempt && r.code > 0).map((r) => r.code).sort((a, b) => a - b);
  const gotIgnore = codes('Ignore');
  if (JSON.stringify(gotIgnore) !== JSON.stringify(notAttempts)) {
    problems.push(`${where}: Ignore exit codes ${JSON.stringify(gotIgnore)} differ from the reasons that are not attempts ${JSON.stringify(notAttempts)}`);
  }
  const known = new Set([2, ...[...src.reasons.values()].map((r) => r.code)]);
  for (const c of [...gotFail, ...gotIgnore]) {
    if (!known.has(c)) problems.push(`${where}: exit code ${c} is no reason's code`);
  }
  if (!rules.some((r) => r.action === 'Ignore' && (r.onPodConditions || []).some((c) => c.type === 'DisruptionTarget'))) {
    problems.push(`${where}: disruptions (DisruptionTarget) are not ignored`);
  }
}

// matchLabels `sel` selects an object whose labels are `labels`.
function selects(sel, labels) {
  return Object.entries(sel || {}).every(([k, v]) => (labels || {})[k] === v);
}

// The worker Service: it selects the worker pods and reaches their listener.
function checkService(o, objects, problems) {
  const where = describe(o);
  const workers = objects.filter((w) => w.file === o.file && w.doc.kind === 'Deployment' &&
    selects(o.doc.spec.selector, w.doc.spec.template.metadata.labels));
  if (workers.length === 0) problems.push(`${where}: selects no worker pod of the release`);
  for (const w of workers) {
    const c = podSpec(w.doc).containers.find(isFfpodContainer);
    const listen = envMap(c).get('FFPOD_LISTEN');
    const port = listen ? Number(listen.value.slice(listen.value.lastIndexOf(':') + 1)) : NaN;
    for (const p of o.doc.spec.ports) {
      const target = typeof p.targetPort === 'string'
        ? ((c.ports || []).find((x) => x.name === p.targetPort) || {}).containerPort : p.targetPort;
      if (target !== port) problems.push(`${where}: port ${p.name} targets ${p.targetPort}, not the FFPOD_LISTEN port ${port} of ${describe(w)}`);
    }
  }
}

// The `helm test` pod: restricted, runs the ffpod image, asks a Service of the release on its
// port for the readiness and metrics paths ffpod serves, and may reach it under the release's
// NetworkPolicies.
function checkTestPod(o, objects, src, problems) {
  const where = describe(o);
  const doc = o.doc;
  const spec = doc.spec;
  const same = objects.filter((x) => x.file === o.file);
  if (!/(^|,)test(,|$)/.test((doc.metadata.annotations || {})['helm.sh/hook'] || '')) {
    problems.push(`${where}: a Pod that is not a helm.sh/hook: test`);
  }
  if (spec.restartPolicy !== 'Never') problems.push(`${where}: restartPolicy is not Never`);
  for (const c of spec.containers) checkRestricted(o, spec, c, problems);
  const c = spec.containers[0];
  const env = envMap(c);
  const images = same.filter((w) => podSpec(w.doc)).flatMap((w) => {
    const ps = podSpec(w.doc);
    return [...(ps.initContainers || []), ...ps.containers.filter(isFfpodContainer)].map((x) => x.image);
  });
  if (!images.includes(c.image)) problems.push(`${where}: image ${c.image} is not the release's ffpod image`);
  const host = (env.get('HOST') || {}).value || '';
  const port = Number((env.get('PORT') || {}).value);
  const svcName = host.split('.')[0];
  const svc = same.find((x) => x.doc.kind === 'Service' && x.doc.metadata.name === svcName);
  if (!svc) {
    problems.push(`${where}: HOST ${host} is no Service of the release`);
  } else if (!svc.doc.spec.ports.some((p) => p.port === port)) {
    problems.push(`${where}: PORT ${port} is not a port of Service ${svcName}`);
  }
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?$/.test(host)) {
    problems.push(`${where}: HOST ${host} is not SERVICE[.NAMESPACE[.svc]]`);
  }
  const script = (c.command || []).concat(c.args || []).join('\n');
  const checked = [...script.matchAll(/\bcheck (\/[a-z]*) /g)].map((m) => m[1]);
  for (const provider of ['readiness', 'metrics']) {
    const want = src.paths.get(provider);
    if (!checked.includes(want)) problems.push(`${where}: helm test does not check the ${provider} path ${want} (it checks ${checked.join(', ') || 'nothing'})`);
  }
  for (const m of script.matchAll(/\b(ffpod_[a-z0-9_]+)/g)) {
    if (!src.metrics.has(m[1])) problems.push(`${where}: helm test checks metric ${m[1]}, which does not exist`);
  }
  // NetworkPolicies: union of what the policies selecting each side allow.
  const policies = same.filter((x) => x.doc.kind === 'NetworkPolicy');
  const labels = doc.metadata.labels;
  const out = policies.filter((p) => selects(p.doc.spec.podSelector.matchLabels, labels) &&
    (p.doc.spec.policyTypes || []).includes('Egress'));
  const workers = svc ? same.filter((w) => w.doc.kind === 'Deployment' &&
    selects(svc.doc.spec.selector, w.doc.spec.template.metadata.labels)) : [];
  for (const w of workers) {
    const wl = w.doc.spec.template.metadata.labels;
    const target = svc.doc.spec.ports.find((p) => p.port === port) || {};
    const ffpodC = podSpec(w.doc).containers.find(isFfpodContainer);
    const named = (ffpodC.ports || []).find((x) => x.name === target.targetPort);
    const podPort = named ? named.containerPort : target.targetPort;
    const portOk = (rule) => !rule.ports || rule.ports.some((p) => p.port === podPort ||
      (named && p.port === named.name));
    if (out.length && !out.some((p) => (p.doc.spec.egress || []).some((r) => portOk(r) &&
        (r.to || []).some((peer) => peer.podSelector && !peer.namespaceSelector &&
          selects(peer.podSelector.matchLabels, wl))))) {
      problems.push(`${where}: no NetworkPolicy lets it out to ${describe(w)} on port ${podPort}`);
    }
    const inn = policies.filter((p) => selects(p.doc.spec.podSelector.matchLabels, wl) &&
      (p.doc.spec.policyTypes || []).includes('Ingress'));
    if (inn.length && !inn.some((p) => (p.doc.spec.ingress || []).some((r) => portOk(r) &&
        (!r.from || r.from.some((peer) => peer.podSelector && !peer.namespaceSelector &&
          selects(peer.podSelector.matchLabels, labels)))))) {
      problems.push(`${where}: no NetworkPolicy lets it in to ${describe(w)} on port ${podPort}`);
    }
  }
}

function checkManifests(files, src) {
  const problems = [];
  const runs = [];
  const objects = files.flatMap(loadManifests);
  const queues = new Set();
  for (const o of objects) {
    const spec = podSpec(o.doc);
    if (spec) {
      for (const c of [...(spec.initContainers || []), ...spec.containers]) checkRestricted(o, spec, c, problems);
      for (const c of spec.containers.filter(isFfpodContainer)) {
        checkFfpodContainer(o, spec, c, src, problems, runs);
        const q = envMap(c).get('FFPOD_QUEUE');
        // A worker serving several queues has NAME[:WEIGHT],...
        if (q && c.args[0] === 'worker') {
          for (const part of q.value.split(',')) queues.add(part.replace(/:[0-9]+$/, ''));
        }
      }
      if (spec.containers.filter(isFfpodContainer).length !== 1) {
        problems.push(`${describe(o)}: expected exactly one ffpod container`);
      }
    }
    if (o.doc.kind === 'Job') checkJobPolicy(o, src, problems);
    if (o.doc.kind === 'Service') checkService(o, objects, problems);
    if (o.doc.kind === 'Pod') checkTestPod(o, objects, src, problems);
  }
  for (const o of objects) {
    const d = o.doc;
    if (d.kind === 'ScaledObject') {
      for (const t of d.spec.triggers) {
        if (t.type === 'redis' || t.type === 'redis-sentinel') {
          const want = [...queues].map((q) => q + src.pendingSuffix);
          if (!want.includes(t.metadata.listName)) {
            problems.push(`${describe(o)}: redis trigger reads ${t.metadata.listName}, the workers' pending list is ${want.join(' or ') || '(no worker)'}`);
          }
        } else if (t.type === 'prometheus') {
          checkPromQL(t.metadata.query, `${describe(o)} trigger query`, src.metrics, problems);
        }
      }
    }
    if (d.kind === 'PodMonitor') {
      for (const ep of d.spec.podMetricsEndpoints) {
        if (ep.path !== src.paths.get('metrics')) {
          problems.push(`${describe(o)}: scrapes ${ep.path}, metrics are served on ${src.paths.get('metrics')}`);
        }
        const selected = objects.filter((w) => podSpec(w.doc) &&
          Object.entries(d.spec.selector.matchLabels).every(([k, v]) => (w.doc.spec.template.metadata.labels || {})[k] === v));
        if (selected.length === 0) problems.push(`${describe(o)}: selects no pod of the release`);
        for (const w of selected) {
          const c = podSpec(w.doc).containers.find(isFfpodContainer);
          if (!(c.ports || []).some((p) => p.name === ep.port)) problems.push(`${describe(o)}: ${describe(w)} has no port ${ep.port}`);
        }
      }
    }
    if (d.kind === 'PrometheusRule') {
      for (const g of d.spec.groups) {
        for (const r of g.rules) {
          const where = `${describe(o)} ${r.alert || r.record}`;
          const labels = checkPromQL(r.expr, where, src.metrics, problems);
          if (r.alert) checkRunbook(r, where, src, problems);
          const text = JSON.stringify(r.annotations || {});
          for (const m of text.matchAll(/\$labels\.([A-Za-z_]+)/g)) {
            if (!labels.has(m[1])) problems.push(`${where}: annotation uses $labels.${m[1]}, which the expression does not have`);
          }
        }
      }
    }
  }
  return { problems, runs, count: objects.length };
}

// GitHub's anchor of a Markdown heading: lower case, punctuation but - and _ dropped, spaces to -.
function headingAnchor(text) {
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

// Every alert links its own runbook: runbook_url ends in docs/FILE.md#<alert in lower case>,
// and that file of the sources has the heading.
function checkRunbook(rule, where, src, problems) {
  const url = (rule.annotations || {}).runbook_url;
  const want = rule.alert.toLowerCase();
  const m = typeof url === 'string' && url.match(/\/([A-Za-z0-9_-]+\.md)#([^#/]+)$/);
  if (!m) return problems.push(`${where}: no runbook_url ending in docs/FILE.md#${want} (got ${url})`);
  if (m[2] !== want) return problems.push(`${where}: runbook_url points at #${m[2]}, not at its own section #${want}`);
  const file = path.join(src.root, 'docs', m[1]);
  const anchors = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => headingAnchor(l.replace(/^#+/, '')))
    : [];
  if (!anchors.includes(want)) problems.push(`${where}: runbook_url ${url}: docs/${m[1]} has no heading #${want}`);
}

function runParser(ffpod, runs, problems) {
  for (const r of runs) {
    const res = spawnSync(ffpod, r.argv, { env: r.env, encoding: 'utf8', timeout: 20000 });
    if (res.status !== 0) {
      problems.push(`${r.where}: ffpod ${r.argv.join(' ')} with its FFPOD_* environment exits ${res.status}: ${(res.stderr || '').trim()}`);
    }
  }
}

function checkDashboard(file, src, problems) {
  const dash = JSON.parse(fs.readFileSync(file, 'utf8'));
  let exprs = 0;
  const walk = (v, where) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}[${i}]`));
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'expr' || k === 'query') && typeof x === 'string' && x.includes('ffpod_')) {
          exprs++;
          checkPromQL(x, `${file} ${where}.${k}`, src.metrics, problems, ['__name__']);
        } else if (k === 'query' && x && typeof x === 'object' && typeof x.query === 'string' && x.query.includes('ffpod_')) {
          exprs++;
          checkPromQL(x.query, `${file} ${where}.query`, src.metrics, problems);
        } else {
          walk(x, `${where}.${k}`);
        }
      }
    }
  };
  walk(dash, '');
  if (exprs < 10) problems.push(`${file}: only ${exprs} queries on ffpod metrics`);
  const used = new Set(JSON.stringify(dash).match(/ffpod_[a-z0-9_]+/g));
  for (const [name] of src.metrics) {
    const seen = [...used].some((u) => u === name || u.startsWith(name + '_'));
    if (!seen) problems.push(`${file}: metric ${name} is on no panel`);
  }
}

function checkDoc(file, src, problems) {
  const text = fs.readFileSync(file, 'utf8');
  for (const m of new Set(text.match(/\bffpod_[a-z0-9_]+/g) || [])) {
    const base = m.replace(/_(bucket|sum|count)$/, '');
    if (!src.metrics.has(m) && !(src.metrics.has(base) && src.metrics.get(base).type === 'histogram')) {
      problems.push(`${file}: mentions metric ${m}, which does not exist`);
    }
  }
  for (const m of new Set(text.match(/\bFFPOD_[A-Z0-9_]+/g) || [])) {
    if (!src.flags.has(m)) problems.push(`${file}: mentions ${m}, which is no flag's variable`);
  }
  // Flags on ffpod command lines (up to the `--` that starts ffmpeg's arguments).
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/\bffpod (run|worker|enqueue|status|cancel|pause|resume|probe)\b((?:(?! -- )[^`|])*)/g)) {
      for (const f of m[2].matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)) {
        const flag = src.flags.get(flagEnvVar(f[1]));
        if (!flag || !flag.commands.has(m[1])) {
          problems.push(`${file}: "ffpod ${m[1]}" is given ${f[1]}, which is not one of its flags`);
        }
      }
    }
  }
}

// The images of images/ agree with what the chart assumes of them: the static ffpod built by
// scripts/build-static at the path the chart runs and injection copies, the user the pod
// security context names, the listener's port, ffpod as the entrypoint, and the GPU images'
// default required encoders the chart's own.
function checkImages(dir, root, objects, problems) {
  const values = require('js-yaml').load(read(root, 'charts/ffpod/values.yaml'));
  const binaries = new Set(objects.filter((o) => podSpec(o.doc))
    .flatMap((o) => podSpec(o.doc).containers.filter(isFfpodContainer).map((c) => c.command[0]))
    .filter((b) => !b.startsWith('/ffpod/')));
  const psc = values.podSecurityContext;
  const dirs = fs.readdirSync(dir).filter((d) => /^ffmpeg-/.test(d));
  if (dirs.length < 3) problems.push(`${dir}: expected the cpu, nvidia and intel images, found ${dirs.join(', ') || 'none'}`);
  for (const d of dirs) {
    const file = path.join(dir, d, 'Dockerfile');
    const text = fs.readFileSync(file, 'utf8');
    const want = (what, re) => { if (!re.test(text)) problems.push(`${file}: ${what}`); };
    want('no build stage running scripts/build-static', /^FROM \S+ AS build$[\s\S]*^RUN scripts\/build-static .*--out \/out\/ffpod$/m);
    const copy = text.match(/^COPY --from=build \/out\/ffpod (\S+)$/m);
    if (!copy) problems.push(`${file}: does not copy the static ffpod from the build stage`);
    else {
      if (copy[1] !== values.injection.sourcePath) problems.push(`${file}: ffpod is at ${copy[1]}, injection.sourcePath is ${values.injection.sourcePath}`);
      for (const b of binaries) if (b !== copy[1]) problems.push(`${file}: ffpod is at ${copy[1]}, the chart runs ${b}`);
      want(`the entrypoint is not ${copy[1]}`, new RegExp(`^ENTRYPOINT \\["${copy[1]}"\\]$`, 'm'));
    }
    want(`does not run as ${psc.runAsUser}:${psc.runAsGroup} (podSecurityContext)`, new RegExp(`^USER ${psc.runAsUser}:${psc.runAsGroup}$`, 'm'));
    want(`does not expose http.port ${values.http.port}`, new RegExp(`^EXPOSE ${values.http.port}$`, 'm'));
    const vendor = d.replace(/^ffmpeg-/, '');
    if (values.gpu[vendor]) {
      const enc = values.gpu[vendor].requireEncoders.join(',');
      want(`CMD does not require ${enc} (gpu.${vendor}.requireEncoders)`,
        new RegExp(`^CMD \\["worker", "--require-encoders", "${enc}"\\]$`, 'm'));
    }
  }
  return dirs.length;
}

function loadSources(root) {
  return { root, flags: parseFlags(root), metrics: parseMetrics(root), paths: parseHttpPaths(root),
    reasons: parseReasons(root), pendingSuffix: parsePendingSuffix(root) };
}

function check(opts) {
  const src = loadSources(opts.sourceRoot);
  for (const p of ['healthy', 'readiness', 'metrics']) {
    if (!src.paths.get(p)) throw new Error(`http_server.cc: no path served by provider ${p}`);
  }
  const { problems, runs, count } = checkManifests(opts.files, src);
  if (opts.ffpod) runParser(opts.ffpod, runs, problems);
  for (const d of opts.dashboards) checkDashboard(d, src, problems);
  for (const d of opts.docs) checkDoc(d, src, problems);
  if (opts.images) checkImages(opts.images, opts.sourceRoot, opts.files.flatMap(loadManifests), problems);
  return { problems, count, runs: opts.ffpod ? runs.length : 0 };
}

// ---------------------------------------------------------------- self-test

// Each mutation renames one thing in a copy of the sources; the check must then fail and name it.
const MUTATIONS = [
  ['supervisor/net/http_server.cc', '"/readyz"', '"/ready"', 'readinessProbe path /readyz'],
  ['supervisor/net/http_server.cc', '"/healthz"', '"/livez"', 'livenessProbe path /healthz'],
  ['supervisor/net/http_server.cc', '"/metrics"', '"/prometheus"', 'scrapes /metrics'],
  ['supervisor/net/http_server.cc', '"/readyz"', '"/ready"', 'helm test does not check the readiness path /ready'],
  ['supervisor/telemetry/ffpod_metrics.cc', '"ffpod_ready"', '"ffpod_is_ready"', 'helm test checks metric ffpod_ready, which does not exist'],
  ['supervisor/telemetry/ffpod_metrics.cc', '"ffpod_stalls_total"', '"ffpod_stall_total"', 'metric ffpod_stalls_total does not exist'],
  ['supervisor/telemetry/ffpod_metrics.cc', '"ffpod_jobs_in_flight"', '"ffpod_jobs_running"', 'metric ffpod_jobs_in_flight does not exist'],
  ['supervisor/telemetry/ffpod_metrics.cc', '{"result", "reason"}', '{"result", "cause"}', 'names reason, which no series in the expression has'],
  ['parsers/config/flag_table.cc', '"--grace-period"', '"--grace-seconds"', 'FFPOD_GRACE_PERIOD is not the variable of any flag'],
  ['parsers/config/flag_table.cc', '"--require-encoders"', '"--require-encoder"', 'FFPOD_REQUIRE_ENCODERS is not the variable of any flag'],
  ['parsers/config/flag_table.cc', '{"--slots", kWorker,', '{"--slots", kRun,', 'FFPOD_SLOTS (--slots) is not a flag of ffpod worker'],
  ['parsers/ffmpeg/reasons.cc', '"input_invalid", false, true, 11}', '"input_invalid", false, true, 13}', 'FailJob exit codes'],
  ['parsers/ffmpeg/reasons.cc', '"preempted", true, false, 143}', '"preempted", true, false, 142}', 'Ignore exit codes'],
  ['supervisor/queue/job_queue.h', 'return q + ":pending";', 'return q + ":waiting";', 'the workers\' pending list is'],
  ['parsers/config/otel_variables.cc', '"OTEL_SERVICE_NAME"', '"OTEL_SERVICE"', 'OTEL_SERVICE_NAME is not read'],
  ['parsers/**/*.cc', '"NODE_NAME"', '"K8S_NODE_NAME"', 'NODE_NAME is not read anywhere'],
  ['docs/operations.md', '### FfpodQueueBacklog', '### Queue backlog', 'docs/operations.md has no heading #ffpodqueuebacklog'],
];

function copySources(root, dest) {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f));
  for (const f of ['parsers', 'supervisor'].flatMap((rel) => sourceFiles(root, rel)).concat(docs)) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dest, f));
  }
}

function selfTest(opts) {
  const failures = [];
  const base = check({ ...opts, ffpod: null, dashboards: [], docs: [], images: null });
  if (base.problems.length) failures.push(`unmutated sources: ${base.problems.join('; ')}`);
  for (const [file, from, to, expect] of MUTATIONS) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ffpod-contract-'));
    try {
      copySources(opts.sourceRoot, tmp);
      // "dir/**/*.cc" renames in every such file below the folder.
      const targets = file.includes('*')
        ? sourceFiles(tmp, file.split('/')[0]).filter((f) => f.endsWith(path.extname(file)))
          .map((f) => path.join(tmp, f))
        : [path.join(tmp, file)];
      let found = 0;
      for (const p of targets) {
        const text = fs.readFileSync(p, 'utf8');
        if (!text.includes(from)) continue;
        found++;
        fs.writeFileSync(p, text.split(from).join(to));
      }
      if (found === 0) {
        failures.push(`${file} no longer contains ${from}: update the self-test`);
        continue;
      }
      let problems;
      try {
        problems = check({ ...opts, sourceRoot: tmp, ffpod: null, dashboards: [], docs: [], images: null }).problems;
      } catch (e) {
        problems = [String(e.message)];
      }
      const hit = problems.some((x) => x.includes(expect));
      console.log(`${hit ? 'caught' : 'MISSED'}: ${file} ${from} -> ${to}`);
      if (!hit) failures.push(`renaming ${from} to ${to} in ${file} went unnoticed (problems: ${problems.join('; ') || 'none'})`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return failures;
}

// ---------------------------------------------------------------- main

function parseArgs(argv) {
  const opts = { sourceRoot: null, ffpod: null, dashboards: [], docs: [], images: null, files: [],
    selfTest: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--source-root') opts.sourceRoot = argv[++i];
    else if (a === '--ffpod') opts.ffpod = argv[++i];
    else if (a === '--dashboard') opts.dashboards.push(argv[++i]);
    else if (a === '--doc') opts.docs.push(argv[++i]);
    else if (a === '--images') opts.images = argv[++i];
    else if (a === '--self-test') opts.selfTest = true;
    else opts.files.push(a);
  }
  if (!opts.sourceRoot || opts.files.length === 0) {
    console.error('usage: node contract.js --source-root DIR [--ffpod BIN] [--dashboard F] [--doc F] MANIFESTS...');
    process.exit(2);
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.selfTest) {
    const failures = selfTest(opts);
    for (const f of failures) console.log(f);
    console.log(`contract self-test: ${MUTATIONS.length} renames, ${failures.length} failures`);
    return failures.length ? 1 : 0;
  }
  const { problems, count, runs } = check(opts);
  for (const p of problems) console.log(p);
  console.log(`contract: ${count} objects, ${runs} ffpod parser runs, ${opts.dashboards.length} dashboards, ${opts.docs.length} docs, ${opts.images ? 'images' : 'no images'}, ${problems.length} problems`);
  return problems.length ? 1 : 0;
}

if (require.main === module) process.exit(main());
module.exports = { checkPromQL, loadSources };
