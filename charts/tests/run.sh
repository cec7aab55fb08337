#!/usr/bin/env bash
# The chart's checks, one step per argument (CTest runs each as its own test; see CMakeLists.txt):
#
#   build     build the renderer (Go, Helm's template libraries from Debian) and install the
#             pinned schema validators (npm ci) when node_modules is missing
#   renderer  the renderer's own behaviour on a small chart (render/testdata/README.md)
#   render    render every value set in values/ (yamllint on the output); the manifests go to
#             BUILD/rendered/<set>.yaml
#   validate  every rendered object against the Kubernetes, KEDA and prometheus-operator
#             schemas, unknown fields included
#   broken    each manifest in broken/ must be rejected by the validator, for its stated reason
#   keda      keda-test.js: the scalingModifiers checks and formula evaluator of keda.js, and the
#             rendered ScaledObjects' formulas evaluated on sample queue states
#   outputs   outputs-test.js: the outputs volume (emptyDir, claim, NFS, hostPath) of the worker and
#             Job pods, mounted where the values say
#   schema    each value set in invalid/ must be rejected at render time (values.schema.json or
#             the templates' own checks), with its stated message
#   contract  names used by the chart, the dashboard and docs/kubernetes.md exist in the sources;
#             the worker and Job flags and values pass ffpod's own parser (FFPOD_BINARY); the
#             Dockerfiles of images/ agree with the chart (binary path, user, port, encoders)
#   selftest  renames in a copy of the sources must each break the contract check
#   rules     promtool check rules, and promtool test rules on alerts_test.yaml (a pool without
#             KEDA) and alerts_keda_test.yaml (KEDA scales it, down to zero replicas)
#   hook      the `helm test` pod's check, run against a real ffpod worker and redis-server:
#             it passes on a ready worker, fails on a paused one and with none (FFPOD_BINARY)
#   readme    the values table of charts/ffpod/README.md is what values-table.js generates from
#             values.yaml and values.schema.json (and a changed default makes it stale)
#   all       everything above, in order
#
# Usage: charts/tests/run.sh STEP... [-B BUILD_DIR]   (default BUILD_DIR: build-ship/chart)
# Environment: FFPOD_BINARY (an ffpod to run the contract's parser check with; default
# build/ffpod when present). Exit status: 0 passed, 1 failed, 77 a tool is missing (skipped).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
chart="$root/charts/ffpod"
build="$root/build-ship/chart"
steps=()
while (($#)); do
  case "$1" in
    -B) build=$2; shift 2 ;;
    *) steps+=("$1"); shift ;;
  esac
done
((${#steps[@]})) || steps=(all)
mkdir -p "$build"
build=$(cd "$build" && pwd)
render_bin="$build/chart-render"
out="$build/rendered"
namespace=media
release=ffpod

skip() {
  echo "SKIPPED: $*" >&2
  exit 77
}
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null || skip "$1 is not installed ($2)"
}

# Skips (77) when a tool the checks need is not installed, so that every step reports the same.
tools_present() {
  need go "apt-get install golang-go, or scripts/setup"
  need node "apt-get install nodejs npm, or scripts/setup"
  need npm "apt-get install npm, or scripts/setup"
  local gocode=/usr/share/gocode/src
  for pkg in github.com/Masterminds/sprig sigs.k8s.io/yaml github.com/xeipuuv/gojsonschema; do
    [[ -d "$gocode/$pkg" ]] || skip "Go package $pkg is missing (apt-get install golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev)"
  done
}

built() {
  tools_present
  [[ -x "$render_bin" && -d "$here/node_modules/@kubernetes-models/keda" ]] ||
    fail "run the build step first"
}

step_build() {
  tools_present
  # GOPATH mode: the sprig/v3 import resolves through the package's go.mod only for code inside
  # a GOPATH, so the program is linked into one.
  local gopath="$build/gopath"
  mkdir -p "$gopath/src"
  ln -sfn "$here/render" "$gopath/src/ffpod-chart-render"
  (cd "$gopath/src/ffpod-chart-render" &&
    GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS="" \
      GOCACHE="$build/gocache" go build -o "$render_bin" .)
  if [[ ! -d "$here/node_modules/@kubernetes-models/keda" ]]; then
    npm ci --prefix "$here" --prefer-offline --no-audit --no-fund >/dev/null
  fi
  echo "build: $render_bin, node_modules ready"
}

step_renderer() {
  built
  local t="$here/render/testdata" got
  got=$("$render_bin" -chart "$t/chart" -f "$t/override.yaml" -name rel -namespace ns) ||
    fail "the test chart does not render"
  diff -u "$t/expected.yaml" - <<<"$got" || fail "the renderer's output differs from render/testdata/expected.yaml"
  if got=$("$render_bin" -chart "$t/chart" -f "$t/required-empty.yaml" -o /dev/null 2>&1); then
    fail "required accepted an empty value"
  fi
  grep -qF 'error calling required: present is required' <<<"$got" || fail "required: $got"
  if got=$("$render_bin" -chart "$t/chart" -f "$t/port-string.yaml" -o /dev/null 2>&1); then
    fail "values.schema.json accepted a string port"
  fi
  grep -qF -- '- port: Invalid type. Expected: integer, given: string' <<<"$got" || fail "schema: $got"
  echo "renderer: output as expected; required and the schema reject what they must"
}

render_set() {  # render_set VALUES OUT
  "$render_bin" -chart "$chart" -f "$1" -name "$release" -namespace "$namespace" -o "$2" \
    -notes "${2%.yaml}.notes.txt"
}

step_render() {
  built
  rm -rf "$out" && mkdir -p "$out"
  local sets=0
  for v in "$here"/values/*.yaml; do
    local name
    name=$(basename "$v" .yaml)
    render_set "$v" "$out/$name.yaml" || fail "value set $name does not render"
    sets=$((sets + 1))
    echo "render: $name: $(grep -c '^kind:' "$out/$name.yaml" || true) objects"
  done
  ((sets >= 7)) || fail "only $sets value sets"
  helmignore_keeps_chart
  [[ ! -s "$out/everything-off.yaml" ]] || fail "everything-off renders objects"
  if command -v yamllint >/dev/null; then
    yamllint -s -d '{extends: default, rules: {line-length: disable, document-start: disable,
      indentation: {indent-sequences: whatever}, comments: {min-spaces-from-content: 1}}}' \
      "$out"/*.yaml "$chart/Chart.yaml" "$chart/values.yaml" "$here"/values/*.yaml
  fi
}

# No pattern of the chart's .helmignore drops a file the chart is made of (a pattern matches any
# component of a path, as Helm's does for patterns without a slash).
helmignore_keeps_chart() {
  local pat f part n=0
  [[ -f "$chart/.helmignore" ]] || fail "charts/ffpod/.helmignore is missing"
  while IFS= read -r pat; do
    [[ -z "$pat" || "$pat" == \#* || "$pat" == !* ]] && continue
    pat=${pat%/}
    n=$((n + 1))
    while IFS= read -r f; do
      for part in ${f//\// }; do
        # shellcheck disable=SC2053  # the pattern is a glob on purpose
        [[ "$part" == $pat ]] && fail ".helmignore pattern $pat drops $f from the chart"
      done
    done < <(cd "$chart" && find . -type f ! -name .helmignore | sed 's|^\./||')
  done <"$chart/.helmignore"
  echo "render: .helmignore ($n patterns) keeps every file of the chart"
}

rendered() {
  compgen -G "$out/*.yaml" >/dev/null || fail "run the render step first"
  ls "$out"/*.yaml
}

step_validate_prelude() {
  built
  rendered >/dev/null
}

step_validate() {
  step_validate_prelude
  # shellcheck disable=SC2046
  node "$here/validate.js" $(rendered)
}

# The text after "# expect: " on the first line of a file.
expectation() {
  sed -n '1s/^# expect: //p' "$1"
}

step_broken() {
  step_validate_prelude
  local n=0
  for f in "$here"/broken/*.yaml; do
    local want got
    want=$(expectation "$f")
    [[ -n "$want" ]] || fail "$f has no '# expect:' line"
    if got=$(node "$here/validate.js" "$f" 2>&1); then
      fail "$(basename "$f") passed the validator; expected: $want"
    fi
    grep -qF -- "$want" <<<"$got" || fail "$(basename "$f"): expected \"$want\", got: $got"
    n=$((n + 1))
  done
  for f in "$here"/broken-contract/*.yaml; do
    local want got
    want=$(expectation "$f")
    [[ -n "$want" ]] || fail "$f has no '# expect:' line"
    if grep -q '^# needs: ffpod' "$f" && [[ -z "$ffpod" ]]; then
      fail "$(basename "$f") needs an ffpod binary: set FFPOD_BINARY"
    fi
    if got=$(node "$here/contract.js" --source-root "$root" ${ffpod:+--ffpod "$ffpod"} "$f" 2>&1); then
      fail "$(basename "$f") passed the contract check; expected: $want"
    fi
    grep -qF -- "$want" <<<"$got" || fail "$(basename "$f"): expected \"$want\", got: $got"
    n=$((n + 1))
  done
  echo "broken: $n broken manifests rejected for the stated reason"
}

step_keda() {
  step_validate_prelude
  node "$here/keda-test.js" "$out"
}

step_outputs() {
  step_validate_prelude
  node "$here/outputs-test.js" "$out"
}

step_schema() {
  built
  local n=0
  for f in "$here"/invalid/*.yaml; do
    local want got
    want=$(expectation "$f")
    [[ -n "$want" ]] || fail "$f has no '# expect:' line"
    if got=$("$render_bin" -chart "$chart" -f "$f" -name "$release" -namespace "$namespace" -o /dev/null 2>&1); then
      fail "$(basename "$f") rendered; expected it to be rejected with: $want"
    fi
    grep -qF -- "$want" <<<"$got" || fail "$(basename "$f"): expected \"$want\", got: $got"
    n=$((n + 1))
  done
  echo "schema: $n wrong value sets rejected with the stated message"
}

step_contract() {
  step_validate_prelude
  local args=(--source-root "$root" --dashboard "$root/docs/grafana/ffpod.json"
    --doc "$root/docs/kubernetes.md" --images "$root/images")
  [[ -n "$ffpod" ]] && args+=(--ffpod "$ffpod")
  # shellcheck disable=SC2046
  node "$here/contract.js" "${args[@]}" $(rendered)
  # A Dockerfile that disagrees with the chart is caught: another user in a copy of images/.
  local dir="$build/images" got
  rm -rf "$dir" && cp -r "$root/images" "$dir"
  sed -i 's/^USER 10001:10001$/USER 1000:1000/' "$dir/ffmpeg-cpu/Dockerfile"
  # shellcheck disable=SC2046
  if got=$(node "$here/contract.js" --source-root "$root" --images "$dir" $(rendered) 2>&1); then
    fail "contract: a Dockerfile running as 1000:1000 passed"
  fi
  grep -qF 'ffmpeg-cpu/Dockerfile: does not run as 10001:10001 (podSecurityContext)' <<<"$got" ||
    fail "contract: $got"
}

step_selftest() {
  step_validate_prelude
  # shellcheck disable=SC2046
  node "$here/contract.js" --self-test --source-root "$root" $(rendered)
}

step_rules() {
  step_validate_prelude
  need promtool "apt-get install prometheus"
  local dir="$build/rules"
  rm -rf "$dir" && mkdir -p "$dir"
  # The PrometheusRule of a value set as a plain rule file: cpu (no KEDA) for alerts_test.yaml,
  # keda-queues (KEDA scales the pool, to zero) for alerts_keda_test.yaml.
  local set
  for set in cpu:rules keda-queues:rules-keda; do
    node -e '
      const { loadManifests } = require(process.argv[1]);
      const yaml = require(process.argv[2]);
      const rule = loadManifests(process.argv[3]).find((o) => o.doc.kind === "PrometheusRule");
      if (!rule) { console.error("no PrometheusRule in " + process.argv[3]); process.exit(1); }
      require("fs").writeFileSync(process.argv[4], yaml.dump({ groups: rule.doc.spec.groups }));
    ' "$here/lib.js" "$here/node_modules/js-yaml" "$out/${set%%:*}.yaml" "$dir/${set#*:}.yaml"
    promtool check rules "$dir/${set#*:}.yaml"
  done
  cp "$here/alerts_test.yaml" "$here/alerts_keda_test.yaml" "$dir/"
  (cd "$dir" && promtool test rules alerts_test.yaml alerts_keda_test.yaml)
  # Every query of the Grafana dashboard parses: each becomes a recording rule, with Grafana's
  # variables replaced by what they expand to.
  # shellcheck disable=SC2016
  node -e '
    const fs = require("fs");
    const yaml = require(process.argv[1]);
    const dash = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    const rules = [];
    const walk = (v) => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v && typeof v === "object") {
        if (typeof v.expr === "string") rules.push(v.expr);
        Object.values(v).forEach(walk);
      }
    };
    walk(dash.panels);
    const expand = (e) => e.replace(/\$__rate_interval/g, "5m").replace(/\$(namespace|pod)/g, ".*");
    fs.writeFileSync(process.argv[3], yaml.dump({ groups: [{ name: "dashboard",
      rules: rules.map((e, i) => ({ record: "dashboard:query" + i, expr: expand(e) })) }] }));
  ' "$here/node_modules/js-yaml" "$root/docs/grafana/ffpod.json" "$dir/dashboard.yaml"
  promtool check rules "$dir/dashboard.yaml"
}

# A free TCP port on the loopback, from $1 up.
free_port() {
  local p
  for p in $(seq "$1" "$(($1 + 200))"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free port near $1"
}

# Waits (bounded) until $1 answers with HTTP status $2.
wait_status() {
  local _
  for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == "$2" ]] && return 0
    sleep 0.2
  done
  fail "$1 never answered $2"
}

# The `helm test` pod's command, run here against a real worker (its HOST and PORT pointed at
# the loopback): it passes while the worker is ready, and fails when it is not or is gone.
step_hook() {
  step_validate_prelude
  [[ -n "$ffpod" ]] || skip "the hook step needs an ffpod binary: set FFPOD_BINARY"
  need redis-server "apt-get install redis-server, or scripts/setup"
  need curl "apt-get install curl"
  local dir="$build/hook" script
  rm -rf "$dir" && mkdir -p "$dir"
  node -e '
    const { loadManifests } = require(process.argv[1]);
    const pod = loadManifests(process.argv[2]).find((o) => o.doc.kind === "Pod");
    if (!pod) { console.error("no test Pod in " + process.argv[2]); process.exit(1); }
    const c = pod.doc.spec.containers[0];
    const argv = (c.command || []).concat(c.args || []);
    if (argv[0] !== "/bin/bash" || argv[1] !== "-c") { console.error("the test pod does not run /bin/bash -c"); process.exit(1); }
    require("fs").writeFileSync(process.argv[3], argv[2]);
  ' "$here/lib.js" "$out/cpu.yaml" "$dir/check.sh"
  script=$(<"$dir/check.sh")
  local redis_port http_port redis_pid worker_pid got
  redis_port=$(free_port 16400)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" >"$dir/redis.log" 2>&1 &
  redis_pid=$!
  http_port=$(free_port 19500)
  "$ffpod" worker --redis "redis://127.0.0.1:$redis_port" --listen "127.0.0.1:$http_port" \
    --worker-id hook-test --heartbeat 1 >"$dir/worker.log" 2>&1 &
  worker_pid=$!
  # shellcheck disable=SC2064
  trap "kill $worker_pid $redis_pid 2>/dev/null || true" EXIT
  wait_status "http://127.0.0.1:$http_port/readyz" 200
  local env=(HOST=127.0.0.1 PORT="$http_port" DELAY=0.5)
  got=$(env "${env[@]}" ATTEMPTS=20 bash -c "$script" 2>&1) ||
    fail "helm test fails on a ready worker: $got"
  grep -c '^ok: ' <<<"$got" | grep -qx 2 || fail "helm test did not report both checks: $got"
  echo "hook: ready worker: ${got//$'\n'/; }"
  "$ffpod" pause --redis "redis://127.0.0.1:$redis_port" >/dev/null
  wait_status "http://127.0.0.1:$http_port/readyz" 503
  if got=$(env "${env[@]}" ATTEMPTS=2 bash -c "$script" 2>&1); then
    fail "helm test passes on a paused (unready) worker: $got"
  fi
  grep -qE "^FAIL after 2 tries: .*/readyz answered: HTTP/1\.[01] 503 " <<<"$got" ||
    fail "helm test on a paused worker: $got"
  echo "hook: paused worker: ${got##*$'\n'}"
  kill "$worker_pid"
  wait "$worker_pid" || true
  if got=$(env "${env[@]}" ATTEMPTS=2 bash -c "$script" 2>&1); then
    fail "helm test passes with no worker: $got"
  fi
  grep -qF "FAIL after 2 tries: no answer from http://127.0.0.1:$http_port/readyz" <<<"$got" ||
    fail "helm test with no worker: $got"
  echo "hook: no worker: ${got##*$'\n'}"
  kill "$redis_pid"
  wait "$redis_pid" || true
  trap - EXIT
}

# The README's values table is current, and the check can tell: a changed default and a value
# the schema does not describe each fail it.
step_readme() {
  built
  node "$here/values-table.js" --check "$chart"
  local dir="$build/readme" got
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$chart/values.yaml" "$chart/values.schema.json" "$chart/README.md" "$dir/"
  sed -i 's/^  slots: 1$/  slots: 2/' "$dir/values.yaml"
  grep -q '^  slots: 2$' "$dir/values.yaml" || fail "readme: values.yaml has no '  slots: 1' to change"
  if got=$(node "$here/values-table.js" --check "$dir" 2>&1); then
    fail "readme: the table passed with a changed default of worker.slots"
  fi
  # shellcheck disable=SC2016  # backticks of Markdown, not a command substitution
  grep -qF 'stale:   | `worker.slots` | integer | `1` |' <<<"$got" || fail "readme: $got"
  cp "$chart/values.yaml" "$dir/values.yaml"
  printf 'undescribed: 1\n' >>"$dir/values.yaml"
  if got=$(node "$here/values-table.js" --check "$dir" 2>&1); then
    fail "readme: a value that values.schema.json does not describe passed"
  fi
  grep -qF 'values.yaml has undescribed, which values.schema.json does not describe' <<<"$got" ||
    fail "readme: $got"
  echo "readme: a changed default and an undescribed value are both caught"
}

ffpod=${FFPOD_BINARY:-}
if [[ -z "$ffpod" && -x "$root/build/ffpod" ]]; then ffpod="$root/build/ffpod"; fi

for s in "${steps[@]}"; do
  case "$s" in
    all) for t in build renderer render validate broken keda outputs schema contract selftest rules hook readme; do "step_$t"; done ;;
    build | renderer | render | validate | broken | keda | outputs | schema | contract | selftest | rules | hook | readme) "step_$s" ;;
    *) fail "unknown step $s" ;;
  esac
done
