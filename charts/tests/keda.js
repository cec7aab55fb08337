// The ScaledObject's scalingModifiers: KEDA's rules for them, and an evaluator of the formula.
//
// KEDA evaluates `spec.advanced.scalingModifiers.formula` with expr-lang over the triggers'
// metric values, each under the trigger's `name`, and hands the HPA that one value against
// `target`. The chart emits a sum of trigger names; this evaluator reads the subset of expr-lang
// a formula of that kind can use:
//
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER | NAME | '(' expr ')' | ('min' | 'max') '(' expr (',' expr)* ')'
//
// and rejects anything else (with the position), so a formula the chart starts to emit in
// another form fails here until the evaluator learns it.
'use strict';

// Tokens of `text`: {kind: 'num'|'name'|'op', value, pos}.
function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) {
      const at = pos + (text.slice(pos).length - text.slice(pos).trimStart().length);
      throw new Error(`formula: unexpected "${text[at]}" at ${at}`);
    }
    const at = m.index + m[0].length - (m[1] || m[2] || m[3]).length;
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]), pos: at });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', value: m[2], pos: at });
    else tokens.push({ kind: 'op', value: m[3], pos: at });
    pos = re.lastIndex;
  }
  return tokens;
}

// The formula as a tree: {num}, {name}, {op, left, right}, {neg}, {call, args}.
function parse(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const isOp = (v) => peek() && peek().kind === 'op' && peek().value === v;
  const expect = (v) => {
    if (!isOp(v)) throw new Error(`formula: expected "${v}" at ${peek() ? peek().pos : text.length}`);
    i++;
  };
  function expr() {
    let left = term();
    while (isOp('+') || isOp('-')) left = { op: tokens[i++].value, left, right: term() };
    return left;
  }
  function term() {
    let left = unary();
    while (isOp('*') || isOp('/')) left = { op: tokens[i++].value, left, right: unary() };
    return left;
  }
  function unary() {
    if (isOp('-')) {
      i++;
      return { neg: unary() };
    }
    return primary();
  }
  function primary() {
    const t = peek();
    if (!t) throw new Error(`formula: unexpected end at ${text.length}`);
    if (t.kind === 'num') return (i++, { num: t.value });
    if (t.kind === 'name') {
      i++;
      if (!isOp('(')) return { name: t.value };
      if (t.value !== 'min' && t.value !== 'max') {
        throw new Error(`formula: function ${t.value} at ${t.pos} is not supported`);
      }
      i++;
      const args = [expr()];
      while (isOp(',')) i++, args.push(expr());
      expect(')');
      return { call: t.value, args };
    }
    if (isOp('(')) {
      i++;
      const e = expr();
      expect(')');
      return e;
    }
    throw new Error(`formula: unexpected "${t.value}" at ${t.pos}`);
  }
  const tree = expr();
  if (i < tokens.length) throw new Error(`formula: unexpected "${tokens[i].value}" at ${tokens[i].pos}`);
  return tree;
}

// The trigger names the formula reads.
function names(tree, out = new Set()) {
  if (tree.name !== undefined) out.add(tree.name);
  for (const k of ['left', 'right', 'neg']) if (tree[k]) names(tree[k], out);
  for (const a of tree.args || []) names(a, out);
  return out;
}

// The formula's value with `values` (trigger name -> number); an unknown name throws, as KEDA's
// compile step does.
function evaluate(text, values) {
  const ev = (t) => {
    if (t.num !== undefined) return t.num;
    if (t.name !== undefined) {
      if (!(t.name in values)) throw new Error(`formula: unknown name ${t.name}`);
      return values[t.name];
    }
    if (t.neg) return -ev(t.neg);
    if (t.call) return Math[t.call](...t.args.map(ev));
    const a = ev(t.left);
    const b = ev(t.right);
    return { '+': a + b, '-': a - b, '*': a * b, '/': a / b }[t.op];
  };
  return ev(parse(text));
}

// A Kubernetes quantity-free number as KEDA's strconv.ParseFloat reads it, or NaN.
function parseFloatStrict(s) {
  return typeof s === 'string' && /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : NaN;
}

const MODIFIER_FIELDS = new Set(['formula', 'target', 'activationTarget', 'metricType']);

// Problems of a ScaledObject's scalingModifiers (an empty list when it has none or they are
// right): the fields of KEDA's CRD (strings; these validators predate them, so unknown fields
// are found here) and the checks of KEDA's admission webhook (formula and target required, target
// a number above 0, metricType not Utilization, every name in the formula a named trigger, trigger
// names unique, fallback only with AverageValue), plus the chart's own: every trigger is in the
// formula (a trigger left out would be read and ignored).
function checkScalingModifiers(doc) {
  const spec = doc.spec || {};
  const sm = (spec.advanced || {}).scalingModifiers;
  if (sm === undefined) return [];
  const where = '/spec/advanced/scalingModifiers';
  if (sm === null || typeof sm !== 'object' || Array.isArray(sm)) return [`${where}: must be an object`];
  const problems = [];
  for (const k of Object.keys(sm)) {
    if (!MODIFIER_FIELDS.has(k)) problems.push(`unknown field ${where}/${k}`);
    else if (typeof sm[k] !== 'string') problems.push(`${where}/${k}: must be a string`);
  }
  if (!sm.formula) problems.push(`${where}/formula: required`);
  if (!sm.target) problems.push(`${where}/target: required`);
  else if (!(parseFloatStrict(sm.target) > 0)) problems.push(`${where}/target: "${sm.target}" is not a number above 0`);
  if (sm.activationTarget !== undefined && !(parseFloatStrict(sm.activationTarget) >= 0)) {
    problems.push(`${where}/activationTarget: "${sm.activationTarget}" is not a number of at least 0`);
  }
  const metricType = sm.metricType || 'AverageValue';
  if (!['AverageValue', 'Value'].includes(metricType)) {
    problems.push(`${where}/metricType: "${metricType}" is not AverageValue or Value`);
  }
  if (spec.fallback && metricType !== 'AverageValue') {
    problems.push(`${where}/metricType: fallback needs AverageValue, not ${metricType}`);
  }
  const triggers = (spec.triggers || []).map((t) => t.name);
  const seen = new Set();
  for (const n of triggers) {
    if (!n) problems.push('/spec/triggers: a trigger without a name cannot be in the formula');
    else if (seen.has(n)) problems.push(`/spec/triggers: two triggers are named ${n}`);
    seen.add(n);
  }
  if (typeof sm.formula === 'string' && sm.formula) {
    try {
      const used = names(parse(sm.formula));
      for (const n of used) if (!seen.has(n)) problems.push(`${where}/formula: ${n} is not a trigger name`);
      for (const n of seen) if (n && !used.has(n)) problems.push(`${where}/formula: trigger ${n} is not in the formula`);
    } catch (e) {
      problems.push(`${where}/formula: ${e.message}`);
    }
  }
  return problems;
}

// The replicas KEDA's HPA asks for when the triggers read `values`: ceil(formula / target)
// for AverageValue, between minReplicaCount and maxReplicaCount; minReplicaCount (or 0) while
// the value is not above activationTarget.
function desiredReplicas(doc, values) {
  const spec = doc.spec;
  const sm = spec.advanced.scalingModifiers;
  const value = evaluate(sm.formula, values);
  const min = spec.minReplicaCount || 0;
  const max = spec.maxReplicaCount || 100;
  if (!(value > parseFloatStrict(sm.activationTarget || '0'))) return min;
  const want = Math.ceil(value / parseFloatStrict(sm.target));
  return Math.min(max, Math.max(min, want, 1));
}

module.exports = { tokenize, parse, names, evaluate, checkScalingModifiers, desiredReplicas };
