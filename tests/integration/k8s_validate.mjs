#!/usr/bin/env node
// k8s_validate.mjs FILE.yaml... - validate Kubernetes manifests offline.
//
// Each document is checked against the Kubernetes OpenAPI schemas that
// the npm package kubernetes-models carries (unknown fields, types,
// required fields); js-yaml reads the files.  Prints every document as
// one JSON array on stdout (packaging_tests.py checks their contents),
// each problem as "FILE: KIND NAME: message" on stderr; exit 1 if any.
// K8S_NODE_MODULES names the node_modules directory that
// `packaging/install-deps.sh --test` fills (kubernetes-models is ESM
// only, and ESM ignores NODE_PATH: modules are loaded by path).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const base = process.env.K8S_NODE_MODULES || "/usr/local/lib/proxyd-tests/node_modules";
const yaml = createRequire(path.join(base, "noop.js"))("js-yaml");

// "apps/v1" + "Deployment" -> kubernetes-models/apps/v1/Deployment.js
async function model(apiVersion, kind) {
  const file = path.join(base, "kubernetes-models", apiVersion, kind + ".js");
  const mod = await import(pathToFileURL(file).href);
  return mod[kind];
}

let bad = 0;
const all = [];
for (const file of process.argv.slice(2)) {
  const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d);
  for (const doc of docs) {
    const name = (doc.kind || "?") + " " + ((doc.metadata || {}).name || "?");
    try {
      const Model = await model(doc.apiVersion, doc.kind);
      new Model(doc).validate();
    } catch (e) {
      bad++;
      console.error(file + ": " + name + ": " + (e.message || e));
    }
    all.push(doc);
  }
}
process.stdout.write(JSON.stringify(all));
process.exitCode = bad ? 1 : 0;
