#!/usr/bin/env node
// Generates the values table of the chart's README from values.yaml and values.schema.json, so
// that the table cannot drift from the values: one row per value in the order of values.yaml,
// with its type (from the schema), its default (from values.yaml) and its description (the
// `# -- ` comment above the key, continued by the `# ` lines that follow it, as helm-docs reads
// them). Sections (maps the schema describes property by property) get a row when they have a
// description, and their values follow; free-form maps (labels, selectors, resources.requests)
// and lists are one value each.
//
// A key of values.yaml that the schema does not describe is an error: values.schema.json must
// know every value (it rejects unknown keys at install time, so an undescribed default would
// fail `helm install` with no overrides).
//
// Usage: node values-table.js --check|--write CHART_DIR
//   --check  exit 1 (saying how to fix it) when README.md's table differs from the generated one
//   --write  rewrite the table in README.md, between the markers
// The table lives between the lines BEGIN and END below; both must be in README.md.
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const BEGIN = '<!-- values-table: begin (generated from values.yaml and values.schema.json by charts/tests/values-table.js --write; do not edit) -->';
const END = '<!-- values-table: end -->';

// Follows $ref within the schema.
function resolve(schema, node) {
  while (node && node.$ref) {
    const parts = node.$ref.replace(/^#\//, '').split('/');
    node = parts.reduce((n, p) => n && n[p], schema);
  }
  return node;
}

function typeOf(node) {
  if (!node) return '';
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  const t = Array.isArray(node.type) ? node.type.join(' or ') : node.type || '';
  if (t === 'array' && node.items) {
    const it = node.items.$ref ? null : node.items;
    if (it && it.type) return `array of ${it.type}`;
  }
  return t;
}

// [{key, indent, line, description}] for every key line of values.yaml, in order. Comment lines
// are collected until the next key; a block that starts with `# -- ` describes that key.
function keyLines(text) {
  const out = [];
  let comment = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    const c = line.match(/^\s*#\s?(.*)$/);
    if (c) {
      if (c[1].startsWith('-- ')) comment = [c[1].slice(3)];
      else if (comment) comment.push(c[1]);
      continue;
    }
    if (line.trim() === '') {
      comment = null;
      continue;
    }
    const k = line.match(/^(\s*)([A-Za-z0-9_][A-Za-z0-9_.-]*):(\s|$)/);
    if (k) out.push({ key: k[2], indent: k[1].length, description: comment ? comment.join(' ').trim() : '' });
    comment = null;
  }
  return out;
}

// Text for a table cell: `|` escaped, and outside code spans `<` and `>` too (Markdown would
// take `<release>` for an HTML tag).
function escape(text) {
  return text.split('`').map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;')
    .replace(/>/g, '&gt;'))).join('`').replace(/\|/g, '\\|');
}

// The rows of the table, or throws naming the value the schema does not know.
function rows(values, schema, text) {
  const result = [];
  const stack = [];  // [{indent, key, value, schema, leaf}]
  for (const { key, indent, description } of keyLines(text)) {
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack.length ? stack[stack.length - 1] : { value: values, schema, leaf: false };
    // Lines inside a list or a free-form map belong to their value's default, not to the table.
    if (parent.leaf || parent.value === null || typeof parent.value !== 'object' ||
        Array.isArray(parent.value) || !(key in parent.value)) {
      stack.push({ indent, key, value: undefined, schema: null, leaf: true });
      continue;
    }
    const name = stack.map((s) => s.key).concat(key).join('.');
    const node = resolve(schema, ((resolve(schema, parent.schema) || {}).properties || {})[key]);
    if (!node) throw new Error(`values.yaml has ${name}, which values.schema.json does not describe`);
    const value = parent.value[key];
    const section = value !== null && typeof value === 'object' && !Array.isArray(value) &&
      node.properties !== undefined;
    stack.push({ indent, key, value, schema: node, leaf: !section });
    if (section && !description) continue;
    result.push(`| \`${name}\` | ${escape(typeOf(node))} | ${section ? '' : '`' + escape(JSON.stringify(value)) + '`'} | ${escape(description)} |`);
  }
  return result;
}

function table(chartDir) {
  const text = fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8');
  const schema = JSON.parse(fs.readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8'));
  const lines = ['| key | type | default | description |', '|---|---|---|---|',
    ...rows(yaml.load(text), schema, text)];
  return lines.join('\n');
}

function main(argv) {
  const [mode, chartDir] = argv;
  if (!['--check', '--write'].includes(mode) || !chartDir) {
    console.error('usage: node values-table.js --check|--write CHART_DIR');
    return 2;
  }
  const readmePath = path.join(chartDir, 'README.md');
  const readme = fs.readFileSync(readmePath, 'utf8');
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END);
  if (b < 0 || e < b) {
    console.error(`${readmePath}: the markers of the values table are missing:\n${BEGIN}\n${END}`);
    return 1;
  }
  let generated;
  try {
    generated = table(chartDir);
  } catch (err) {
    console.error(`values-table: ${err.message}`);
    return 1;
  }
  const current = readme.slice(b + BEGIN.length, e).trim();
  if (mode === '--write') {
    fs.writeFileSync(readmePath, readme.slice(0, b + BEGIN.length) + '\n' + generated + '\n' + readme.slice(e));
    console.log(`values-table: wrote ${generated.split('\n').length - 2} rows to ${readmePath}`);
    return 0;
  }
  if (current !== generated) {
    const have = new Set(current.split('\n'));
    const want = new Set(generated.split('\n'));
    for (const l of generated.split('\n')) if (!have.has(l)) console.log(`missing: ${l}`);
    for (const l of current.split('\n')) if (!want.has(l)) console.log(`stale:   ${l}`);
    console.log(`values-table: ${readmePath} is out of date; run node charts/tests/values-table.js --write ${chartDir}`);
    return 1;
  }
  console.log(`values-table: ${readmePath} is current (${generated.split('\n').length - 2} rows)`);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
