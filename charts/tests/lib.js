// Shared helpers of the chart checks: reading rendered manifests and finding ffpod's containers.
'use strict';

const fs = require('fs');
const yaml = require('js-yaml');

// Every object of a rendered manifest stream, with the template it came from.
function loadManifests(file) {
  const text = fs.readFileSync(file, 'utf8');
  const objects = [];
  let source = '?';
  for (const part of text.split(/^---[ \t]*$/m)) {
    const m = part.match(/^# Source: (.+)$/m);
    if (m) source = m[1];
    const doc = yaml.load(part);
    if (doc === null || doc === undefined) continue;
    objects.push({ file, source, doc });
  }
  return objects;
}

function describe(o) {
  const name = (o.doc.metadata && o.doc.metadata.name) || '?';
  return `${o.file}: ${o.doc.kind}/${name} (${o.source})`;
}

// The pod template of a workload (Deployment, Job), or null.
function podSpec(doc) {
  if (doc.kind === 'Deployment' || doc.kind === 'Job') return doc.spec.template.spec;
  return null;
}

// The container runs ffpod when its command is an ffpod binary.
function isFfpodContainer(c) {
  return Array.isArray(c.command) && c.command.length > 0 && /(^|\/)ffpod$/.test(c.command[0]);
}

function envMap(c) {
  const m = new Map();
  for (const e of c.env || []) m.set(e.name, e);
  return m;
}

module.exports = { loadManifests, describe, podSpec, isFfpodContainer, envMap };
