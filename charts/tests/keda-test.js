#!/usr/bin/env node
// Tests of keda.js (the formula evaluator and the scalingModifiers checks), then the formula of
// each rendered ScaledObject evaluated on sample queue states: the pool is sized on pending plus
// busy jobs, per queue, worker.slots jobs per replica.
//
// Usage: node keda-test.js RENDERED_DIR
// Exit status: 0 passed; 1 with one line per failure.
'use strict';

const path = require('path');
const { loadManifests } = require('./lib');
const { parse, evaluate, checkScalingModifiers, desiredReplicas } = require('./keda');

const failures = [];
let checks = 0;
function eq(got, want, what) {
  checks++;
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}
function throwsWith(fn, text, what) {
  checks++;
  try {
    fn();
    failures.push(`${what}: did not throw`);
  } catch (e) {
    if (!e.message.includes(text)) failures.push(`${what}: threw "${e.message}", want "${text}"`);
  }
}

function evaluatorCases() {
  const v = { a: 10, b: 4, pending_x: 3 };
  eq(evaluate('a + b', v), 14, 'sum');
  eq(evaluate('a - b - 1', v), 5, 'minus is left-associative');
  eq(evaluate('a / b / 2', v), 1.25, 'division is left-associative');
  eq(evaluate('a + b * 2', v), 18, 'product before sum');
  eq(evaluate('(a + b) * 2', v), 28, 'parentheses');
  eq(evaluate('-b + a', v), 6, 'unary minus');
  eq(evaluate('a - -b', v), 14, 'minus of a negation');
  eq(evaluate(' 1.5*pending_x+.5 ', v), 5, 'decimals, names with underscores, spaces');
  eq(evaluate('max(a, b * 3) + min(b, 1)', v), 13, 'min and max');
  throwsWith(() => evaluate('a + c', v), 'unknown name c', 'unknown trigger name');
  throwsWith(() => parse('a +'), 'unexpected end at 3', 'dangling operator');
  throwsWith(() => parse('(a + b'), 'expected ")" at 6', 'unclosed parenthesis');
  throwsWith(() => parse('a b'), 'unexpected "b" at 2', 'two names in a row');
  throwsWith(() => parse('a > b ? a : b'), 'unexpected ">" at 2', 'operators outside the subset');
  throwsWith(() => parse('sqrt(a)'), 'function sqrt at 0 is not supported', 'other functions');
}

function scaledObject(modifiers, triggers, extra = {}) {
  return { spec: { advanced: { scalingModifiers: modifiers }, triggers, ...extra } };
}

function checkCases() {
  const named = [{ type: 'redis', name: 'pending' }, { type: 'prometheus', name: 'busy' }];
  const good = { formula: 'pending + busy', target: '2', activationTarget: '0', metricType: 'AverageValue' };
  eq(checkScalingModifiers(scaledObject(good, named)), [], 'a right one');
  eq(checkScalingModifiers({ spec: { triggers: named } }), [], 'none at all');
  eq(checkScalingModifiers(scaledObject({ ...good, activationTargt: '1' }, named)),
    ['unknown field /spec/advanced/scalingModifiers/activationTargt'], 'misspelled field');
  eq(checkScalingModifiers(scaledObject({ ...good, target: 2 }, named)),
    ['/spec/advanced/scalingModifiers/target: must be a string',
      '/spec/advanced/scalingModifiers/target: "2" is not a number above 0'], 'a number, not a string');
  eq(checkScalingModifiers(scaledObject({ ...good, target: '0' }, named)),
    ['/spec/advanced/scalingModifiers/target: "0" is not a number above 0'], 'target 0');
  eq(checkScalingModifiers(scaledObject({ formula: 'pending + busy' }, named)),
    ['/spec/advanced/scalingModifiers/target: required'], 'no target');
  eq(checkScalingModifiers(scaledObject({ ...good, metricType: 'Utilization' }, named)),
    ['/spec/advanced/scalingModifiers/metricType: "Utilization" is not AverageValue or Value'], 'Utilization');
  eq(checkScalingModifiers(scaledObject({ ...good, metricType: 'Value' }, named, { fallback: { replicas: 1 } })),
    ['/spec/advanced/scalingModifiers/metricType: fallback needs AverageValue, not Value'], 'fallback with Value');
  eq(checkScalingModifiers(scaledObject({ ...good, formula: 'pending + bussy' }, named)),
    ['/spec/advanced/scalingModifiers/formula: bussy is not a trigger name',
      '/spec/advanced/scalingModifiers/formula: trigger busy is not in the formula'], 'misspelled name');
  eq(checkScalingModifiers(scaledObject(good, [{ type: 'redis', name: 'pending' }, { type: 'prometheus' }])),
    ['/spec/triggers: a trigger without a name cannot be in the formula',
      '/spec/advanced/scalingModifiers/formula: busy is not a trigger name'], 'unnamed trigger');
  eq(checkScalingModifiers(scaledObject({ ...good, formula: 'pending busy' }, named)),
    ['/spec/advanced/scalingModifiers/formula: formula: unexpected "busy" at 8'], 'formula that does not parse');
}

// Sample queue states per value set: trigger values and the replicas they must give. A pool of
// one-slot workers with ten busy and ten pending jobs needs twenty pods (the max of the two
// triggers, what KEDA does without a formula, would say ten).
const SAMPLES = {
  'everything-on': [
    { values: { pending: 0, busy: 0 }, replicas: 1 },
    { values: { pending: 1, busy: 0 }, replicas: 1 },
    { values: { pending: 10, busy: 10 }, replicas: 10 },
    { values: { pending: 0, busy: 9 }, replicas: 5 },
    { values: { pending: 100, busy: 40 }, replicas: 20 },
  ],
  'keda-queues': [
    { values: { pending_acme: 0, pending_globex: 0, pending_shared_pool: 0, busy: 0 }, replicas: 0 },
    { values: { pending_acme: 1, pending_globex: 0, pending_shared_pool: 0, busy: 0 }, replicas: 0 },
    { values: { pending_acme: 0, pending_globex: 2, pending_shared_pool: 0, busy: 0 }, replicas: 1 },
    { values: { pending_acme: 3, pending_globex: 5, pending_shared_pool: 0, busy: 8 }, replicas: 8 },
    { values: { pending_acme: 10, pending_globex: 0, pending_shared_pool: 10, busy: 20 }, replicas: 20 },
    { values: { pending_acme: 500, pending_globex: 500, pending_shared_pool: 500, busy: 80 }, replicas: 40 },
  ],
  'keda-one-slot': [
    { values: { pending: 10, busy: 10 }, replicas: 20 },
    { values: { pending: 0, busy: 3 }, replicas: 3 },
    { values: { pending: 0, busy: 0 }, replicas: 0 },
  ],
};

// The pause annotations each value set must render (docs/kubernetes.md, "Fallback and pausing").
const PAUSE = {
  'everything-on': { 'autoscaling.keda.sh/paused-replicas': '0' },
  'keda-queues': {},
  'keda-one-slot': { 'autoscaling.keda.sh/paused': 'true' },
};

function renderedCases(dir) {
  for (const [set, samples] of Object.entries(SAMPLES)) {
    const file = path.join(dir, `${set}.yaml`);
    const so = loadManifests(file).find((o) => o.doc.kind === 'ScaledObject');
    if (!so) {
      failures.push(`${file}: no ScaledObject`);
      continue;
    }
    eq(checkScalingModifiers(so.doc), [], `${set}: scalingModifiers`);
    const annotations = Object.fromEntries(Object.entries(so.doc.metadata.annotations || {})
      .filter(([k]) => k.startsWith('autoscaling.keda.sh/')));
    eq(annotations, PAUSE[set], `${set}: pause annotations`);
    for (const s of samples) {
      eq(desiredReplicas(so.doc, s.values), s.replicas,
        `${set}: "${so.doc.spec.advanced.scalingModifiers.formula}" with ${JSON.stringify(s.values)}`);
    }
  }
}

function main(args) {
  if (args.length !== 1) {
    console.error('usage: node keda-test.js RENDERED_DIR');
    return 2;
  }
  evaluatorCases();
  checkCases();
  renderedCases(args[0]);
  for (const f of failures) console.log(f);
  console.log(`keda: ${checks} checks, ${failures.length} failed`);
  return failures.length === 0 ? 0 : 1;
}

process.exit(main(process.argv.slice(2)));
