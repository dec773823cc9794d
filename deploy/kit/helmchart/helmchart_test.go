// Package helmchart tests the Helm charts under deploy/helm with Helm's
// own library (what `helm lint --strict` and `helm template` run) and
// decodes every rendered manifest strictly into the Kubernetes API types:
// a misspelt or misplaced field fails here instead of at `kubectl apply`.
package helmchart

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/sirsinexus/terraform-provider-sirsi/deploy/kit/image"
)

const (
	serverChart = "../../helm/sirsi-server"
	agentChart  = "../../helm/sirsi-agent"
	namespace   = "sirsi"
	release     = "prod"
)

// serverValues are the values a server install cannot do without.
func serverValues() map[string]any {
	return map[string]any{
		"database":      map[string]any{"url": "postgres://agentd:pw@db.internal:5432/sirsi?sslmode=verify-full"},
		"operatorToken": "operator-token-0123456789abcdef",
		"pkiSecret":     "sirsi-pki",
	}
}

func agentValues() map[string]any {
	return map[string]any{
		"server":      "prod-sirsi-server.sirsi.svc:7444",
		"caCert":      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"enrollToken": "enroll-token-0123456789",
		"aws":         map[string]any{"region": "eu-west-1"},
	}
}

// with returns v with the dotted key set (v is not modified).
func with(v map[string]any, key string, value any) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		out[k] = x
	}
	head, rest, nested := strings.Cut(key, ".")
	if !nested {
		out[head] = value
		return out
	}
	inner, _ := out[head].(map[string]any)
	out[head] = with(inner, rest, value)
	return out
}

// TestChartsLint is `helm lint --strict`: no warning, no error.
func TestChartsLint(t *testing.T) {
	for chart, values := range map[string]map[string]any{serverChart: serverValues(), agentChart: agentValues()} {
		t.Run(filepath.Base(chart), func(t *testing.T) {
			linter := lint.AllWithKubeVersion(chart, values, namespace, nil)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("%s", m)
				}
			}
			// The control: lint does see a chart that cannot render (lint
			// only notes a missing required value, as INFO).
			broken := lint.AllWithKubeVersion(chart, with(values, "image", "not a map"), namespace, nil)
			if broken.HighestSeverity < support.ErrorSev {
				t.Errorf("lint passed a chart that cannot render: %v", broken.Messages)
			}
		})
	}
}

// render is `helm template` of a chart with values.
func render(t *testing.T, chart string, values map[string]any) (string, error) {
	t.Helper()
	c, err := loader.Load(chart)
	if err != nil {
		t.Fatalf("loading %s: %v", chart, err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.DryRunOption = true, "true"
	install.ReleaseName, install.Namespace = release, namespace
	install.Replace, install.ClientOnly = true, true
	rel, err := install.Run(c, values)
	if err != nil {
		return "", err
	}
	return rel.Manifest, nil
}

// objects are a rendering's manifests by kind and name.
type objects map[string]any

func (o objects) get(t *testing.T, kind, name string) any {
	t.Helper()
	x, ok := o[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s %s rendered; have %v", kind, name, o.keys())
	}
	return x
}

func (o objects) keys() []string {
	var ks []string
	for k := range o {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// newObject is the API type of each kind the charts may render; any other
// kind is an error.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, nil
	}
	return nil, fmt.Errorf("unexpected %s %s", apiVersion, kind)
}

// decodeStrict decodes one manifest into its API type, refusing unknown
// fields, duplicate keys and fields in the wrong case.
func decodeStrict(doc string) (kind, name string, obj any, err error) {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return "", "", nil, fmt.Errorf("YAML: %w", err)
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := k8sjson.UnmarshalCaseSensitivePreserveInts(js, &meta); err != nil {
		return "", "", nil, err
	}
	obj, err = newObject(meta.APIVersion, meta.Kind)
	if err != nil {
		return "", "", nil, err
	}
	strict, err := k8sjson.UnmarshalStrict(js, obj)
	if err != nil {
		return "", "", nil, fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	if len(strict) > 0 {
		return "", "", nil, fmt.Errorf("%s %s: %v", meta.Kind, meta.Metadata.Name, strict)
	}
	if meta.Metadata.Name == "" {
		return "", "", nil, fmt.Errorf("%s without a name", meta.Kind)
	}
	return meta.Kind, meta.Metadata.Name, obj, nil
}

func renderObjects(t *testing.T, chart string, values map[string]any) objects {
	t.Helper()
	manifest, err := render(t, chart, values)
	if err != nil {
		t.Fatalf("helm template %s: %v", chart, err)
	}
	out := objects{}
	for file, doc := range releaseutil.SplitManifests(manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		kind, name, obj, err := decodeStrict(doc)
		if err != nil {
			t.Errorf("%s: %v\n%s", file, err, doc)
			continue
		}
		if _, dup := out[kind+"/"+name]; dup {
			t.Errorf("%s %s rendered twice", kind, name)
		}
		out[kind+"/"+name] = obj
	}
	return out
}

// TestDecodeStrictRefuses is the control of the strict decoding: the
// mistakes it exists to catch are caught.
func TestDecodeStrictRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  prots: []\n",
		"wrong case":     "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  Type: ClusterIP\n",
		"duplicate key":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  name: y\n",
		"misplaced":      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      image: agentd\n",
		"unknown kind":   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
		"wrong type":     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n",
		"no object name": "apiVersion: v1\nkind: Service\nmetadata: {}\n",
	} {
		if _, _, _, err := decodeStrict(doc); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// TestServerChart renders the server chart in the combinations that
// change its manifests and checks that the pieces refer to each other.
func TestServerChart(t *testing.T) {
	full := release + "-sirsi-server"
	cases := []struct {
		name           string
		values         map[string]any
		hpa, monitor   bool
		secret         string // the Secret holding the URL and token
		chartSecret    bool
		wantServerName string
	}{
		{name: "defaults", values: serverValues(), secret: full, chartSecret: true},
		{name: "service monitor", values: with(serverValues(), "serviceMonitor.enabled", true), monitor: true, secret: full, chartSecret: true},
		{name: "autoscaling", values: with(serverValues(), "autoscaling.enabled", true), hpa: true, secret: full, chartSecret: true},
		{
			name: "existing secret and names", secret: "sirsi-db",
			values: with(with(with(with(serverValues(), "existingSecret", "sirsi-db"), "database.url", ""), "operatorToken", ""),
				"serverNames", []any{"sirsi.example.com"}),
			wantServerName: "sirsi.example.com",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := renderObjects(t, serverChart, c.values)
			want := []string{"Deployment/" + full, "PodDisruptionBudget/" + full, "Service/" + full, "ServiceAccount/" + full}
			if c.chartSecret {
				want = append(want, "Secret/"+full)
			}
			if c.hpa {
				want = append(want, "HorizontalPodAutoscaler/"+full)
			}
			if c.monitor {
				want = append(want, "ServiceMonitor/"+full)
			}
			sort.Strings(want)
			if got := objs.keys(); !slices.Equal(got, want) {
				t.Fatalf("rendered %v, want %v", got, want)
			}
			dep := objs.get(t, "Deployment", full).(*appsv1.Deployment)
			pod := dep.Spec.Template.Spec
			if c.hpa != (dep.Spec.Replicas == nil) {
				t.Errorf("replicas %v with autoscaling %v: the HPA alone must set the count when on", dep.Spec.Replicas, c.hpa)
			}
			if !c.hpa && *dep.Spec.Replicas != 2 {
				t.Errorf("replicas %d, want 2", *dep.Spec.Replicas)
			}
			ctr := checkPod(t, pod, "server")
			if strings.Join(ctr.Args, " ") != "server" {
				t.Errorf("args %q", ctr.Args)
			}
			env := envOf(ctr)
			for _, k := range []string{"SIRSI_DATABASE_URL", "SIRSI_OPERATOR_TOKEN"} {
				ref := env[k].ValueFrom
				if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != c.secret {
					t.Errorf("%s is not read from Secret %s: %+v", k, c.secret, env[k])
				}
			}
			if c.chartSecret {
				s := objs.get(t, "Secret", full).(*corev1.Secret)
				if s.StringData["database-url"] != "postgres://agentd:pw@db.internal:5432/sirsi?sslmode=verify-full" || s.StringData["operator-token"] != "operator-token-0123456789abcdef" {
					t.Errorf("secret data %v", s.StringData)
				}
			}
			names := strings.Split(env["SIRSI_SERVER_NAMES"].Value, ",")
			for _, n := range []string{full, full + ".sirsi.svc", c.wantServerName} {
				if n != "" && !slices.Contains(names, n) {
					t.Errorf("server names %v lack %s", names, n)
				}
			}
			// The shared seal key and CA reach the data dir.
			init := pod.InitContainers
			if len(init) != 1 || !strings.Contains(strings.Join(init[0].Command, " "), "chmod 600 /data/seal.key /data/tls/ca-key.pem") {
				t.Errorf("init containers %+v do not install the shared seal key and CA owner-only", init)
			}
			if v := volumeOf(t, pod, "pki"); v.Secret == nil || v.Secret.SecretName != "sirsi-pki" {
				t.Errorf("pki volume %+v is not the pkiSecret", v)
			}
			if env["SIRSI_DATA_DIR"].Value != image.DataDir {
				t.Errorf("data dir %q, the image's is %s", env["SIRSI_DATA_DIR"].Value, image.DataDir)
			}

			svc := objs.get(t, "Service", full).(*corev1.Service)
			ports := map[string]bool{}
			for _, p := range ctr.Ports {
				ports[p.Name] = true
			}
			for _, p := range svc.Spec.Ports {
				if p.TargetPort.Type != intstr.String || !ports[p.TargetPort.StrVal] {
					t.Errorf("Service port %s targets %v, not a container port", p.Name, p.TargetPort)
				}
			}
			checkSelects(t, "Service", svc.Spec.Selector, dep.Spec.Template.Labels)
			pdb := objs.get(t, "PodDisruptionBudget", full).(*policyv1.PodDisruptionBudget)
			checkSelects(t, "PodDisruptionBudget", pdb.Spec.Selector.MatchLabels, dep.Spec.Template.Labels)
			if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
				t.Errorf("PDB minAvailable %v", pdb.Spec.MinAvailable)
			}
			if c.hpa {
				hpa := objs.get(t, "HorizontalPodAutoscaler", full).(*autoscalingv2.HorizontalPodAutoscaler)
				if ref := hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != full || ref.APIVersion != "apps/v1" {
					t.Errorf("HPA targets %+v", ref)
				}
				if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
					t.Errorf("HPA minReplicas %v: fewer than 2 defeats the PDB", hpa.Spec.MinReplicas)
				}
			}
			if c.monitor {
				sm := objs.get(t, "ServiceMonitor", full).(*monitoringv1.ServiceMonitor)
				checkSelects(t, "ServiceMonitor", sm.Spec.Selector.MatchLabels, svc.Labels)
				if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
					t.Errorf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
				}
			}
		})
	}
}

// TestAgentChart renders the agent chart with and without IRSA and an
// assumed role.
func TestAgentChart(t *testing.T) {
	full := release + "-sirsi-agent"
	irsa := with(with(with(agentValues(), "aws.serviceAccountRoleArn", "arn:aws:iam::111111111111:role/sirsi-agent-irsa"),
		"aws.assumeRoleArn", "arn:aws:iam::222222222222:role/sirsi-agent"), "aws.externalId", "ext-0123")
	for name, values := range map[string]map[string]any{"defaults": agentValues(), "irsa": irsa} {
		t.Run(name, func(t *testing.T) {
			objs := renderObjects(t, agentChart, values)
			want := []string{"ConfigMap/" + full, "Deployment/" + full, "PersistentVolumeClaim/" + full, "Secret/" + full, "ServiceAccount/" + full}
			if got := objs.keys(); !slices.Equal(got, want) {
				t.Fatalf("rendered %v, want %v", got, want)
			}
			dep := objs.get(t, "Deployment", full).(*appsv1.Deployment)
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("replicas %v strategy %s: want exactly one agent, the old stopped before the new starts", dep.Spec.Replicas, dep.Spec.Strategy.Type)
			}
			pod := dep.Spec.Template.Spec
			ctr := checkPod(t, pod, "agent")
			if p := pod.SecurityContext.FSGroupChangePolicy; p == nil || *p != corev1.FSGroupChangeOnRootMismatch {
				t.Errorf("fsGroupChangePolicy %v: a recursive change would make the agent's key group-readable", p)
			}
			env := envOf(ctr)
			if ref := env["SIRSI_ENROLL_TOKEN"].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != full || ref.SecretKeyRef.Key != "enroll-token" {
				t.Errorf("enrollment token not from the Secret: %+v", env["SIRSI_ENROLL_TOKEN"])
			}
			if s := objs.get(t, "Secret", full).(*corev1.Secret); s.StringData["enroll-token"] != "enroll-token-0123456789" {
				t.Errorf("secret data %v", s.StringData)
			}
			if v := volumeOf(t, pod, "data"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != full {
				t.Errorf("data volume %+v is not the chart's claim", v)
			}
			if m := mountOf(t, ctr, "data"); m.MountPath != image.DataDir || env["SIRSI_DATA_DIR"].Value != image.DataDir {
				t.Errorf("data dir mounted at %s, SIRSI_DATA_DIR %q, want %s", m.MountPath, env["SIRSI_DATA_DIR"].Value, image.DataDir)
			}
			pvc := objs.get(t, "PersistentVolumeClaim", full).(*corev1.PersistentVolumeClaim)
			if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
				t.Error("the claim holding the agent's identity would be deleted with the release")
			}
			cm := objs.get(t, "ConfigMap", full).(*corev1.ConfigMap)
			if ca := env["SIRSI_CA_CERT_FILE"].Value; ca != mountOf(t, ctr, "ca").MountPath+"/server-ca.pem" || cm.Data["server-ca.pem"] == "" {
				t.Errorf("CA file %s is not the ConfigMap's server-ca.pem", ca)
			}
			sa := objs.get(t, "ServiceAccount", full).(*corev1.ServiceAccount)
			if pod.ServiceAccountName != sa.Name {
				t.Errorf("pod runs as %s, the chart's ServiceAccount is %s", pod.ServiceAccountName, sa.Name)
			}
			if name == "irsa" {
				if sa.Annotations["eks.amazonaws.com/role-arn"] != "arn:aws:iam::111111111111:role/sirsi-agent-irsa" {
					t.Errorf("ServiceAccount annotations %v lack the IRSA role", sa.Annotations)
				}
				if env["SIRSI_AWS_ASSUME_ROLE_ARN"].Value != "arn:aws:iam::222222222222:role/sirsi-agent" || env["SIRSI_AWS_EXTERNAL_ID"].Value != "ext-0123" {
					t.Errorf("assume-role settings %+v %+v", env["SIRSI_AWS_ASSUME_ROLE_ARN"], env["SIRSI_AWS_EXTERNAL_ID"])
				}
			} else if len(sa.Annotations) != 0 {
				t.Errorf("ServiceAccount annotations %v without IRSA", sa.Annotations)
			}
		})
	}
}

// TestChartsRequireValues: a missing required value fails the rendering
// with a message naming it, rather than rendering a broken manifest.
func TestChartsRequireValues(t *testing.T) {
	cases := []struct {
		chart  string
		values map[string]any
		want   string
	}{
		{serverChart, with(serverValues(), "pkiSecret", ""), "pkiSecret is required"},
		{serverChart, with(serverValues(), "database.url", ""), "database.url"},
		{serverChart, with(serverValues(), "operatorToken", ""), "operatorToken"},
		{agentChart, with(agentValues(), "server", ""), "server (host:port"},
		{agentChart, with(agentValues(), "caCert", ""), "caCert"},
		{agentChart, with(agentValues(), "enrollToken", ""), "enrollToken"},
		{agentChart, with(agentValues(), "aws", map[string]any{}), "aws.region"},
	}
	for _, c := range cases {
		_, err := render(t, c.chart, c.values)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s without %s: %v", filepath.Base(c.chart), c.want, err)
		}
	}
}

// checkPod checks what both charts' pods share: the image's non-root
// user, a read-only root, the probes on the HTTP port, and that mounts
// name volumes that exist. It returns the named container.
func checkPod(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != image.UID || sc.FSGroup == nil || *sc.FSGroup != image.UID {
		t.Errorf("pod security context %+v, want non-root as the image's user %d", sc, image.UID)
	}
	if len(pod.Containers) != 1 || pod.Containers[0].Name != name {
		t.Fatalf("containers %+v, want one named %s", pod.Containers, name)
	}
	ctr := pod.Containers[0]
	csc := ctr.SecurityContext
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("container security context %+v", csc)
	}
	for probe, p := range map[string]*corev1.Probe{"/healthz": ctr.LivenessProbe, "/readyz": ctr.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != probe || p.HTTPGet.Port.StrVal != "http" {
			t.Errorf("probe %s: %+v", probe, p)
		}
	}
	env := envOf(ctr)
	var http bool
	for _, p := range ctr.Ports {
		http = http || (p.Name == "http" && env["SIRSI_HTTP_LISTEN"].Value == fmt.Sprintf("0.0.0.0:%d", p.ContainerPort))
	}
	if !http {
		t.Errorf("no container port http where SIRSI_HTTP_LISTEN (%q) serves the probes", env["SIRSI_HTTP_LISTEN"].Value)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), ctr) {
		for _, m := range c.VolumeMounts {
			volumeOf(t, pod, m.Name)
		}
	}
	return ctr
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func volumeOf(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

func mountOf(t *testing.T, c corev1.Container, name string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("container %s does not mount %s", c.Name, name)
	return corev1.VolumeMount{}
}

// checkSelects fails unless selector is non-empty and every label of it is
// on the target.
func checkSelects(t *testing.T, what string, selector, target map[string]string) {
	t.Helper()
	if len(selector) == 0 {
		t.Errorf("%s selects everything", what)
	}
	for k, v := range selector {
		if target[k] != v {
			t.Errorf("%s selects %s=%s, the target has %q", what, k, v, target[k])
		}
	}
}
