// Command render renders a Helm chart the way `helm template` does, without helm: the same
// template engine (Go text/template + sprig v3), Helm's own extra functions (include, tpl,
// required, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray, lookup), the
// built-in objects (.Values, .Release, .Chart, .Capabilities, .Template), value files merged
// over the chart's values.yaml (a null removes a default, as in Helm), and the merged values
// checked against the chart's values.schema.json before anything is rendered (Helm 3 uses the
// same JSON Schema library, xeipuuv/gojsonschema).
//
// Usage:
//
//	render -chart DIR [-f values.yaml]... [-name RELEASE] [-namespace NS]
//	       [-kube-version v1.30.0] [-api-versions a/v1,b/v1] [-o manifests.yaml] [-notes NOTES]
//
// Exit status: 0 rendered; 1 the values fail the schema, a template fails, or a rendered
// document is not valid YAML (the message says which); 2 bad usage.
//
// Not supported (not used by the ffpod chart): subcharts and dependencies, .Files beyond Get
// and Glob-free access, post-renderers, hooks ordering.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

// Chart is the subset of Chart.yaml that templates read, with Helm's field names.
type Chart struct {
	APIVersion  string            `json:"apiVersion"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	AppVersion  string            `json:"appVersion"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	KubeVersion string            `json:"kubeVersion"`
	Home        string            `json:"home"`
	Keywords    []string          `json:"keywords"`
	Annotations map[string]string `json:"annotations"`
}

// Release mirrors Helm's .Release for a first install.
type Release struct {
	Name      string
	Namespace string
	Service   string
	IsInstall bool
	IsUpgrade bool
	Revision  int
}

// KubeVersion mirrors .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// VersionSet mirrors .Capabilities.APIVersions.
type VersionSet []string

// Has is true when the set holds the apiVersion ("batch/v1") or "apiVersion/Kind".
func (v VersionSet) Has(name string) bool {
	for _, x := range v {
		if x == name {
			return true
		}
	}
	return false
}

// Capabilities mirrors .Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

// TemplateInfo mirrors .Template.
type TemplateInfo struct {
	Name     string
	BasePath string
}

func main() {
	os.Exit(run())
}

func run() int {
	var valueFiles fileList
	chartDir := flag.String("chart", "", "chart directory")
	flag.Var(&valueFiles, "f", "values file merged over values.yaml (repeatable, later wins)")
	name := flag.String("name", "ffpod", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.30.0", "Kubernetes version for .Capabilities")
	apiVersions := flag.String("api-versions", "", "extra API versions for .Capabilities.APIVersions (comma-separated)")
	out := flag.String("o", "-", "where the manifests go (- for stdout)")
	notes := flag.String("notes", "", "where the rendered NOTES.txt goes (empty: not written)")
	flag.Parse()
	if *chartDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: render -chart DIR [-f values.yaml]... [-name R] [-namespace NS] [-o FILE]")
		return 2
	}

	manifests, notesText, err := render(*chartDir, valueFiles, *name, *namespace, *kubeVersion, *apiVersions)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	if err := write(*out, manifests); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	if *notes != "" {
		if err := write(*notes, notesText); err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			return 1
		}
	}
	return 0
}

func write(path, text string) error {
	if path == "-" {
		_, err := os.Stdout.WriteString(text)
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func render(chartDir string, valueFiles []string, name, namespace, kubeVersion, apiVersions string) (string, string, error) {
	var chart Chart
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &chart); err != nil {
		return "", "", err
	}
	if chart.Name == "" || chart.Version == "" {
		return "", "", fmt.Errorf("Chart.yaml: name and version are required")
	}

	values := map[string]interface{}{}
	if err := readYAML(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return "", "", err
	}
	for _, f := range valueFiles {
		override := map[string]interface{}{}
		if err := readYAML(f, &override); err != nil {
			return "", "", err
		}
		values = coalesce(override, values)
	}

	if err := validateSchema(chartDir, chart.Name, values); err != nil {
		return "", "", err
	}

	major, minor := "1", "30"
	if m := regexp.MustCompile(`^v?(\d+)\.(\d+)`).FindStringSubmatch(kubeVersion); m != nil {
		major, minor = m[1], m[2]
	}
	versions := VersionSet{"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1",
		"rbac.authorization.k8s.io/v1", "autoscaling/v2"}
	for _, v := range strings.Split(apiVersions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": Release{Name: name, Namespace: namespace, Service: "Helm", IsInstall: true,
			Revision: 1},
		"Chart": chart,
		"Capabilities": Capabilities{
			KubeVersion: KubeVersion{Version: kubeVersion, Major: major, Minor: minor,
				GitVersion: kubeVersion},
			APIVersions: versions,
			HelmVersion: map[string]string{"Version": "v3.14.0"},
		},
	}

	// Every file under templates/, subfolders included (Helm's convention puts `helm test` hooks
	// in templates/tests/), is parsed into one template set, named "<chart>/templates/<path>",
	// so `include` reaches the helpers of any file.
	tdir := filepath.Join(chartDir, "templates")
	root := template.New("gotpl")
	root.Option("missingkey=zero")
	funcs := funcMap(root)
	root.Funcs(funcs)
	var names []string
	err := filepath.WalkDir(tdir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		n := e.Name()
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") &&
			!strings.HasSuffix(n, ".tpl") && n != "NOTES.txt" {
			return nil
		}
		rel, err := filepath.Rel(tdir, p)
		if err != nil {
			return err
		}
		text, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		full := chart.Name + "/templates/" + filepath.ToSlash(rel)
		if _, err := root.New(full).Parse(string(text)); err != nil {
			return fmt.Errorf("parse error in %s: %w", full, err)
		}
		names = append(names, full)
		return nil
	})
	if err != nil {
		return "", "", err
	}
	sort.Strings(names)

	var manifests strings.Builder
	var notesText string
	for _, full := range names {
		base := filepath.Base(full)
		if strings.HasPrefix(base, "_") || strings.HasSuffix(base, ".tpl") {
			continue // partials render only through include
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = TemplateInfo{Name: full, BasePath: chart.Name + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			return "", "", fmt.Errorf("render error in %s: %w", full, cleanError(err))
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if full == chart.Name+"/templates/NOTES.txt" {
			notesText = text
			continue
		}
		for i, doc := range splitDocuments(text) {
			var obj map[string]interface{}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return "", "", fmt.Errorf("%s (document %d) is not valid YAML: %w\n%s", full, i+1, err, numbered(doc))
			}
			if obj == nil {
				continue
			}
			if obj["apiVersion"] == nil || obj["kind"] == nil {
				return "", "", fmt.Errorf("%s (document %d) has no apiVersion or kind", full, i+1)
			}
			doc = strings.TrimLeft(doc, "\n")
			fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", full, strings.TrimRight(doc, "\n "))
		}
	}
	return manifests.String(), notesText, nil
}

// splitDocuments cuts a rendered file at its `---` separator lines.
func splitDocuments(text string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	docs = append(docs, cur.String())
	var out []string
	for _, d := range docs {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func numbered(doc string) string {
	var b strings.Builder
	for i, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "%4d | %s\n", i+1, line)
	}
	return b.String()
}

func cleanError(err error) error {
	var execErr template.ExecError
	if errors.As(err, &execErr) {
		return execErr
	}
	return err
}

func readYAML(path string, into interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// coalesce merges `override` over `base` as Helm merges user values over chart defaults: maps
// merge recursively, anything else replaces, and a null removes the key.
func coalesce(override, base map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		om, oIsMap := v.(map[string]interface{})
		bm, bIsMap := out[k].(map[string]interface{})
		if oIsMap && bIsMap {
			out[k] = coalesce(om, bm)
		} else {
			out[k] = v
		}
	}
	return out
}

// validateSchema checks the merged values against values.schema.json, with Helm's wording.
func validateSchema(chartDir, chartName string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Values go through JSON so that the schema sees the same types Helm's does.
	valuesJSON, err := json.Marshal(values)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema),
		gojsonschema.NewBytesLoader(valuesJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	if result.Valid() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", chartName)
	for _, e := range result.Errors() {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	return errors.New(strings.TrimRight(b.String(), "\n"))
}

// funcMap is sprig's text function map without env/expandenv (Helm removes them), plus Helm's
// own functions bound to the template set `t`.
func funcMap(t *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")

	includeDepth := map[string]int{}
	f["include"] = func(name string, data interface{}) (string, error) {
		includeDepth[name]++
		defer func() { includeDepth[name]-- }()
		if includeDepth[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone.Option("missingkey=zero")
		if _, err := clone.New("tpl").Parse(text); err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := clone.ExecuteTemplate(&buf, "tpl", data); err != nil {
			return "", fmt.Errorf("error calling tpl: %w", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	f["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	// `helm template` has no cluster: lookup finds nothing.
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return f
}
