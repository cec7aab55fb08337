#!/usr/bin/env node
// Validates rendered manifests against the Kubernetes, KEDA and prometheus-operator schemas
// (the kubernetes-models validators), and finds fields those schemas do not know; a
// ScaledObject's scalingModifiers also pass KEDA's own checks (keda.js).
//
// The validators check types, enums, required fields and quantities but accept unknown fields,
// so a misspelled `readinesProbe` or `runAsNonRot` would pass them and be dropped silently by
// the API server. The unknown-field check runs each validator over a proxy of the object that
// records which properties the validator looked at: a compiled schema visits every property it
// declares, and enumerates the keys of maps (labels, resources), so a key that was neither
// visited nor enumerated is not in the schema.
//
// Usage: node validate.js MANIFESTS.yaml...
// Exit status: 0 valid; 1 with one line per problem.
'use strict';

const { loadManifests, describe } = require('./lib');
const { checkScalingModifiers } = require('./keda');

// apiVersion/kind -> the kubernetes-models class that validates it.
const MODELS = {
  'v1/ServiceAccount': () => require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
  'v1/Secret': () => require('kubernetes-models/v1/Secret').Secret,
  'v1/ConfigMap': () => require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1/Service': () => require('kubernetes-models/v1/Service').Service,
  'v1/Pod': () => require('kubernetes-models/v1/Pod').Pod,
  'apps/v1/Deployment': () => require('kubernetes-models/apps/v1/Deployment').Deployment,
  'rbac.authorization.k8s.io/v1/Role': () =>
    require('kubernetes-models/rbac.authorization.k8s.io/v1/Role').Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': () =>
    require('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding').RoleBinding,
  'batch/v1/Job': () => require('kubernetes-models/batch/v1/Job').Job,
  'policy/v1/PodDisruptionBudget': () =>
    require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': () =>
    require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': () =>
    require('@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject').ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': () =>
    require('@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication').TriggerAuthentication,
  'monitoring.coreos.com/v1/PodMonitor': () =>
    require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor').PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': () =>
    require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')
      .PrometheusRule,
};

// Wraps `value` so that every property read and every key enumeration is recorded per path.
function track(value, path, visits) {
  if (value === null || typeof value !== 'object') return value;
  const rec = { value, read: new Set(), enumerated: false };
  visits.push({ path, rec });
  const children = new Map();
  return new Proxy(value, {
    get(target, key) {
      const v = target[key];
      if (typeof key !== 'string') return v;
      rec.read.add(key);
      if (v === null || typeof v !== 'object') return v;
      if (!children.has(key)) children.set(key, track(v, `${path}/${key}`, visits));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === 'string') rec.read.add(key);
      return key in target;
    },
    ownKeys(target) {
      rec.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

// Paths (as regular expressions) whose schema is free-form on purpose, or checked elsewhere:
// the KEDA models predate scalingModifiers (KEDA 2.12), which keda.js checks field by field.
const FREE_FORM = [/^\/spec\/advanced\/scalingModifiers$/];

function unknownFields(Model, doc) {
  const visits = [];
  try {
    Model.prototype.validate.call(track(doc, '', visits));
  } catch (e) {
    // Schema errors are reported by the plain validation.
  }
  const unknown = [];
  for (const { path, rec } of visits) {
    if (rec.enumerated || Array.isArray(rec.value)) continue;
    for (const key of Object.keys(rec.value)) {
      const p = `${path}/${key}`;
      if (!rec.read.has(key) && !FREE_FORM.some((re) => re.test(p))) unknown.push(p);
    }
  }
  return unknown;
}

function validateObject(o) {
  const problems = [];
  const doc = o.doc;
  const key = `${doc.apiVersion}/${doc.kind}`;
  const load = MODELS[key];
  if (!load) return [`${describe(o)}: no schema for ${key}`];
  const Model = load();
  try {
    new Model(doc).validate();
  } catch (e) {
    problems.push(`${describe(o)}: ${e.message}`);
  }
  for (const p of unknownFields(Model, doc)) {
    problems.push(`${describe(o)}: unknown field ${p}`);
  }
  if (key === 'keda.sh/v1alpha1/ScaledObject') {
    for (const p of checkScalingModifiers(doc)) problems.push(`${describe(o)}: ${p}`);
  }
  return problems;
}

function main(files) {
  if (files.length === 0) {
    console.error('usage: node validate.js MANIFESTS.yaml...');
    return 2;
  }
  let count = 0;
  const problems = [];
  for (const f of files) {
    for (const o of loadManifests(f)) {
      count++;
      problems.push(...validateObject(o));
    }
  }
  for (const p of problems) console.log(p);
  console.log(`validate: ${count} objects in ${files.length} files, ${problems.length} problems`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
module.exports = { validateObject };
