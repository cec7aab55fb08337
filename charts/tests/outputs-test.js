#!/usr/bin/env node
// The outputs volume (values `outputs`, docs/storage.md) in the rendered manifests: every worker
// and Job pod of a value set has one volume named `outputs` of the expected source, and its
// ffpod container mounts it at the expected path (and subPath), read-write.
//
// Usage: node outputs-test.js RENDERED_DIR
// Exit status: 0 passed; 1 with one line per failure.
'use strict';

const path = require('path');
const { loadManifests, describe, podSpec, isFfpodContainer } = require('./lib');

// Value set -> the pods it must render and the volume each one must have.
const EXPECTED = {
  cpu: { kinds: ['Deployment'], mountPath: '/outputs', source: { emptyDir: { sizeLimit: '20Gi' } } },
  'outputs-pvc': {
    kinds: ['Deployment', 'Job'],
    mountPath: '/media/out',
    source: { persistentVolumeClaim: { claimName: 'media-outputs' } },
  },
  'outputs-nfs': {
    kinds: ['Deployment'],
    mountPath: '/outputs',
    subPath: 'ffpod',
    source: { nfs: { server: 'nfs.storage.svc.cluster.local', path: '/exports/media' } },
  },
  'outputs-hostpath': {
    kinds: ['Job'],
    mountPath: '/srv/media',
    source: { hostPath: { path: '/var/lib/ffpod/media', type: 'Directory' } },
  },
};

function checkSet(dir, set, want, failures) {
  const file = path.join(dir, `${set}.yaml`);
  const pods = loadManifests(file).filter((o) => podSpec(o.doc));
  const kinds = pods.map((o) => o.doc.kind).sort();
  if (JSON.stringify(kinds) !== JSON.stringify([...want.kinds].sort())) {
    failures.push(`${file}: renders pods of ${kinds.join(', ') || 'nothing'}, expected ${want.kinds.join(', ')}`);
  }
  for (const o of pods) {
    const spec = podSpec(o.doc);
    const vols = (spec.volumes || []).filter((v) => v.name === 'outputs');
    if (vols.length !== 1) {
      failures.push(`${describe(o)}: ${vols.length} volumes named outputs, expected 1`);
      continue;
    }
    const { name, ...source } = vols[0];
    if (JSON.stringify(source) !== JSON.stringify(want.source)) {
      failures.push(`${describe(o)}: outputs volume is ${JSON.stringify(source)}, expected ${JSON.stringify(want.source)}`);
    }
    const c = spec.containers.find(isFfpodContainer);
    const mounts = (c.volumeMounts || []).filter((m) => m.name === name);
    const expected = { name, mountPath: want.mountPath, ...(want.subPath ? { subPath: want.subPath } : {}) };
    if (mounts.length !== 1 || JSON.stringify(mounts[0]) !== JSON.stringify(expected)) {
      failures.push(`${describe(o)}: ffpod mounts ${JSON.stringify(mounts)}, expected [${JSON.stringify(expected)}]`);
    }
  }
  return pods.length;
}

function main(args) {
  if (args.length !== 1) {
    console.error('usage: node outputs-test.js RENDERED_DIR');
    return 2;
  }
  const failures = [];
  let pods = 0;
  for (const [set, want] of Object.entries(EXPECTED)) pods += checkSet(args[0], set, want, failures);
  for (const f of failures) console.log(f);
  console.log(`outputs: ${Object.keys(EXPECTED).length} value sets, ${pods} pods, ${failures.length} problems`);
  return failures.length === 0 ? 0 : 1;
}

process.exit(main(process.argv.slice(2)));
