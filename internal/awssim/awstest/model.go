package awstest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// ErrUnavailable reports that a tool or model the harness needs is not
// installed; Require* helpers turn it into a skip (or a failure under CI).
var ErrUnavailable = errors.New("not available on this machine")

// BotocoreDataEnv overrides the botocore data directory (the directory that
// holds <service>/<api-version>/service-2.json[.gz]).
const BotocoreDataEnv = "AWSSIM_BOTOCORE_DATA"

// Model is one botocore service model, loaded for response validation.
type Model struct {
	Service    string
	APIVersion string
	Protocol   string
	ops        map[string]*operation
	shapes     map[string]*shape
	// errorCodes maps a wire error code to its modeled error shape.
	errorCodes map[string]*shape
}

type metadata struct {
	APIVersion string `json:"apiVersion"`
	Protocol   string `json:"protocol"`
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input *struct {
		Shape string `json:"shape"`
	} `json:"input"`
	Output *struct {
		Shape         string `json:"shape"`
		ResultWrapper string `json:"resultWrapper"`
	} `json:"output"`
}

type shape struct {
	name            string
	Type            string             `json:"type"`
	Members         map[string]*member `json:"members"`
	Member          *member            `json:"member"`
	Key             *member            `json:"key"`
	Value           *member            `json:"value"`
	Enum            []string           `json:"enum"`
	Required        []string           `json:"required"`
	Flattened       bool               `json:"flattened"`
	LocationName    string             `json:"locationName"`
	Payload         string             `json:"payload"`
	TimestampFormat string             `json:"timestampFormat"`
	Exception       bool               `json:"exception"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
	} `json:"error"`
}

type member struct {
	Shape           string `json:"shape"`
	LocationName    string `json:"locationName"`
	Location        string `json:"location"`
	Flattened       bool   `json:"flattened"`
	XMLAttribute    bool   `json:"xmlAttribute"`
	TimestampFormat string `json:"timestampFormat"`
}

var (
	dataDirOnce sync.Once
	dataDir     string
	dataDirErr  error

	modelCache sync.Map // service -> *Model
)

// BotocoreDataDir locates the data directory of the installed botocore.
func BotocoreDataDir() (string, error) {
	dataDirOnce.Do(func() {
		if d := os.Getenv(BotocoreDataEnv); d != "" {
			dataDir = d
			return
		}
		py, err := exec.LookPath("python3")
		if err != nil {
			dataDirErr = fmt.Errorf("locating botocore: python3: %w", ErrUnavailable)
			return
		}
		out, err := exec.Command(py, "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
		if err != nil {
			dataDirErr = fmt.Errorf("locating botocore with %s (%w): %w", py, err, ErrUnavailable)
			return
		}
		dataDir = filepath.Join(strings.TrimSpace(string(out)), "data")
	})
	return dataDir, dataDirErr
}

// LoadModel loads the newest API version of a botocore service model by its
// botocore name ("ec2", "rds", "s3", "lambda", "cloudwatch", "ce", "pricing",
// "sts").
func LoadModel(service string) (*Model, error) {
	if m, ok := modelCache.Load(service); ok {
		return m.(*Model), nil
	}
	dir, err := BotocoreDataDir()
	if err != nil {
		return nil, err
	}
	versions, err := filepath.Glob(filepath.Join(dir, service, "*"))
	if err != nil || len(versions) == 0 {
		return nil, fmt.Errorf("loading model %q: no versions under %s: %w", service, dir, ErrUnavailable)
	}
	sort.Strings(versions)
	latest := versions[len(versions)-1]
	raw, err := readMaybeGzip(filepath.Join(latest, "service-2.json"))
	if err != nil {
		return nil, fmt.Errorf("loading model %q: %w", service, err)
	}
	m, err := parseModel(service, raw)
	if err != nil {
		return nil, fmt.Errorf("loading model %q from %s: %w", service, latest, err)
	}
	actual, _ := modelCache.LoadOrStore(service, m)
	return actual.(*Model), nil
}

func readMaybeGzip(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	}
	f, err := os.Open(path + ".gz")
	if err != nil {
		return nil, fmt.Errorf("opening %s(.gz): %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s.gz: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("reading %s.gz: %w", path, err)
	}
	return b, nil
}

func parseModel(service string, raw []byte) (*Model, error) {
	var doc struct {
		Metadata   metadata              `json:"metadata"`
		Operations map[string]*operation `json:"operations"`
		Shapes     map[string]*shape     `json:"shapes"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding service model: %w", err)
	}
	if doc.Metadata.Protocol == "" || len(doc.Operations) == 0 || len(doc.Shapes) == 0 {
		return nil, errors.New("service model has no protocol, operations or shapes")
	}
	m := &Model{
		Service:    service,
		APIVersion: doc.Metadata.APIVersion,
		Protocol:   doc.Metadata.Protocol,
		ops:        doc.Operations,
		shapes:     doc.Shapes,
		errorCodes: map[string]*shape{},
	}
	for name, s := range doc.Shapes {
		s.name = name
		for _, ms := range s.refs() {
			if _, ok := doc.Shapes[ms.Shape]; !ok {
				return nil, fmt.Errorf("shape %s refers to unknown shape %q", name, ms.Shape)
			}
		}
		if s.Exception {
			code := name
			if s.Error != nil && s.Error.Code != "" {
				code = s.Error.Code
			}
			m.errorCodes[code] = s
		}
	}
	return m, nil
}

func (s *shape) refs() []*member {
	var out []*member
	for _, mb := range s.Members {
		out = append(out, mb)
	}
	for _, mb := range []*member{s.Member, s.Key, s.Value} {
		if mb != nil {
			out = append(out, mb)
		}
	}
	return out
}

// HasOperation reports whether the model defines the operation.
func (m *Model) HasOperation(op string) bool {
	_, ok := m.ops[op]
	return ok
}

// ErrorStatus returns the HTTP status the model assigns to an error code, or
// 0 when the code is not modeled (common errors such as Throttling are not).
func (m *Model) ErrorStatus(code string) int {
	if s, ok := m.errorCodes[code]; ok && s.Error != nil {
		return s.Error.HTTPStatusCode
	}
	return 0
}

// RequireModel loads a model for a test: it skips the test when botocore is
// not installed, fails it when CI=true, and fails it on a broken model.
func RequireModel(t testing.TB, service string) *Model {
	t.Helper()
	m, err := LoadModel(service)
	if err != nil {
		unavailable(t, err)
	}
	return m
}

// unavailable skips on a missing tool outside CI and fails otherwise.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true" {
		t.Skipf("SKIPPING honesty check: %v (install it, or run with CI=true to make this a failure)", err)
	}
	t.Fatalf("honesty harness: %v", err)
}
