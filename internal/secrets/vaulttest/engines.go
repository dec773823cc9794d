package vaulttest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// transitKey is an aes256-gcm96 transit key: one 32-byte key per version.
type transitKey struct {
	versions map[int][]byte
	created  map[int]time.Time
	latest   int
}

// kvSecret is a KV v2 secret with its versions.
type kvSecret struct {
	versions map[int]*kvVersion
	current  int
	created  time.Time
	updated  time.Time
}

type kvVersion struct {
	data    map[string]any
	created time.Time
}

type transitEncryptBody struct {
	Plaintext  string `json:"plaintext"`
	KeyVersion any    `json:"key_version"`
}

type transitCiphertextBody struct {
	Ciphertext string `json:"ciphertext"`
}

type transitRotateBody struct {
	ManagedKeyName string `json:"managed_key_name"`
}

type kvWriteBody struct {
	Data    map[string]any `json:"data"`
	Options *kvOptions     `json:"options"`
}

type kvOptions struct {
	CAS any `json:"cas"`
}

func (s *Server) engineRoutes() []route {
	return []route{
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/encrypt/(?P<key>[^/]+)$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &transitEncryptBody{} },
			handle:  s.transitEncrypt,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/decrypt/(?P<key>[^/]+)$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &transitCiphertextBody{} },
			handle:  s.transitDecrypt,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/rewrap/(?P<key>[^/]+)$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &transitCiphertextBody{} },
			handle:  s.transitRewrap,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/keys/(?P<key>[^/]+)/rotate$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &transitRotateBody{} },
			handle:  s.transitRotate,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/keys/(?P<key>[^/]+)$`),
			methods: []string{http.MethodGet},
			auth:    true,
			handle:  s.transitReadKey,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+?)/data/(?P<path>.+)$`),
			methods: []string{http.MethodGet},
			auth:    true,
			query:   []string{"version"},
			handle:  s.kvRead,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+?)/data/(?P<path>.+)$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &kvWriteBody{} },
			handle:  s.kvWrite,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+?)/metadata/(?P<path>.+)$`),
			methods: []string{http.MethodGet},
			auth:    true,
			handle:  s.kvMetadata,
		},
	}
}

// noRoute is Vault's answer for a path no mount serves.
func noRoute(path string) reply {
	return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
}

// transitMount returns the keys of the transit mount named in c, or nil
// when no transit engine is mounted there.
func (s *Server) transitMount(c *call) map[string]*transitKey {
	return s.transit[c.vars["mount"]]
}

func (s *Server) newTransitKey() *transitKey {
	k := &transitKey{versions: map[int][]byte{}, created: map[int]time.Time{}}
	k.rotate(s.now)
	return k
}

func (k *transitKey) rotate(now time.Time) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	k.latest++
	k.versions[k.latest], k.created[k.latest] = b, now
}

func aead(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g
}

func (s *Server) transitEncrypt(c *call) reply {
	mount := s.transitMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/encrypt/" + c.vars["key"])
	}
	body := c.body.(*transitEncryptBody)
	pt, err := base64.StdEncoding.DecodeString(body.Plaintext)
	if err != nil {
		return fail(http.StatusBadRequest, "failed to base64-decode plaintext")
	}
	k := mount[c.vars["key"]]
	if k == nil {
		// Vault upserts: encrypting with an unknown key creates it when the
		// token may create it (a root token may).
		k = s.newTransitKey()
		mount[c.vars["key"]] = k
	}
	version := k.latest
	if body.KeyVersion != nil {
		n, err := jsonWhole(body.KeyVersion)
		if err != nil || n > k.latest {
			return fail(http.StatusBadRequest, "requested version for encryption is higher than the latest key version")
		}
		if n > 0 {
			version = n
		}
	}
	s.transitOps++
	return ok(&response{RequestID: randomID(), Data: map[string]any{
		"ciphertext":  k.encrypt(version, pt),
		"key_version": version,
	}})
}

func (k *transitKey) encrypt(version int, pt []byte) string {
	g := aead(k.versions[version])
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	return "vault:v" + strconv.Itoa(version) + ":" + base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, pt, nil))
}

// decrypt opens a transit ciphertext, answering Vault's errors.
func (k *transitKey) decrypt(ct string) ([]byte, *reply) {
	if ct == "" {
		r := fail(http.StatusBadRequest, "missing ciphertext to decrypt")
		return nil, &r
	}
	rest, found := strings.CutPrefix(ct, "vault:")
	if !found {
		r := fail(http.StatusBadRequest, "invalid ciphertext: no prefix")
		return nil, &r
	}
	ver, payload, found := strings.Cut(rest, ":")
	n, err := strconv.Atoi(strings.TrimPrefix(ver, "v"))
	if !found || !strings.HasPrefix(ver, "v") || err != nil {
		r := fail(http.StatusBadRequest, "invalid ciphertext: wrong version prefix")
		return nil, &r
	}
	key := k.versions[n]
	if key == nil {
		r := fail(http.StatusBadRequest, "invalid ciphertext: key version is not valid")
		return nil, &r
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		r := fail(http.StatusBadRequest, "invalid ciphertext: could not decode base64")
		return nil, &r
	}
	g := aead(key)
	if len(raw) < g.NonceSize() {
		r := fail(http.StatusBadRequest, "invalid ciphertext: unable to decrypt")
		return nil, &r
	}
	pt, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], nil)
	if err != nil {
		r := fail(http.StatusBadRequest, "cipher: message authentication failed")
		return nil, &r
	}
	return pt, nil
}

func (s *Server) transitDecrypt(c *call) reply {
	mount := s.transitMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/decrypt/" + c.vars["key"])
	}
	k := mount[c.vars["key"]]
	if k == nil {
		return fail(http.StatusBadRequest, "encryption key not found")
	}
	pt, bad := k.decrypt(c.body.(*transitCiphertextBody).Ciphertext)
	if bad != nil {
		return *bad
	}
	s.transitOps++
	return ok(&response{RequestID: randomID(), Data: map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}})
}

func (s *Server) transitRewrap(c *call) reply {
	mount := s.transitMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/rewrap/" + c.vars["key"])
	}
	k := mount[c.vars["key"]]
	if k == nil {
		return fail(http.StatusBadRequest, "encryption key not found")
	}
	pt, bad := k.decrypt(c.body.(*transitCiphertextBody).Ciphertext)
	if bad != nil {
		return *bad
	}
	s.transitOps++
	return ok(&response{RequestID: randomID(), Data: map[string]any{
		"ciphertext":  k.encrypt(k.latest, pt),
		"key_version": k.latest,
	}})
}

func (s *Server) transitRotate(c *call) reply {
	mount := s.transitMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/keys/" + c.vars["key"] + "/rotate")
	}
	if c.body.(*transitRotateBody).ManagedKeyName != "" {
		return fail(http.StatusBadRequest, "managed keys are not supported by this double")
	}
	k := mount[c.vars["key"]]
	if k == nil {
		return fail(http.StatusBadRequest, "key not found")
	}
	k.rotate(s.now)
	return ok(&response{RequestID: randomID(), Data: k.info(c.vars["key"])})
}

func (s *Server) transitReadKey(c *call) reply {
	mount := s.transitMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/keys/" + c.vars["key"])
	}
	k := mount[c.vars["key"]]
	if k == nil {
		return fail(http.StatusNotFound)
	}
	return ok(&response{RequestID: randomID(), Data: k.info(c.vars["key"])})
}

// info is the key read answer: for symmetric keys, "keys" maps each
// version to its creation time in Unix seconds.
func (k *transitKey) info(name string) map[string]any {
	keys := map[string]any{}
	for v, t := range k.created {
		keys[strconv.Itoa(v)] = t.Unix()
	}
	return map[string]any{
		"allow_plaintext_backup": false,
		"auto_rotate_period":     0,
		"deletion_allowed":       false,
		"derived":                false,
		"exportable":             false,
		"imported_key":           false,
		"keys":                   keys,
		"latest_version":         k.latest,
		"min_available_version":  0,
		"min_decryption_version": 1,
		"min_encryption_version": 0,
		"name":                   name,
		"supports_decryption":    true,
		"supports_derivation":    true,
		"supports_encryption":    true,
		"supports_signing":       false,
		"type":                   "aes256-gcm96",
	}
}

func (s *Server) kvMount(c *call) map[string]*kvSecret {
	return s.kv[c.vars["mount"]]
}

func (s *Server) kvRead(c *call) reply {
	mount := s.kvMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/data/" + c.vars["path"])
	}
	sec := mount[c.vars["path"]]
	if sec == nil {
		return fail(http.StatusNotFound)
	}
	version := sec.current
	if q := c.query.Get("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			return fail(http.StatusBadRequest, "invalid version")
		}
		if n > 0 {
			version = n
		}
	}
	v := sec.versions[version]
	if v == nil {
		return fail(http.StatusNotFound)
	}
	return ok(&response{RequestID: randomID(), Data: map[string]any{
		"data":     v.data,
		"metadata": kvVersionMeta(version, v),
	}})
}

func kvVersionMeta(n int, v *kvVersion) map[string]any {
	return map[string]any{
		"created_time":    v.created.UTC().Format(time.RFC3339Nano),
		"custom_metadata": nil,
		"deletion_time":   "",
		"destroyed":       false,
		"version":         n,
	}
}

func (s *Server) kvWrite(c *call) reply {
	mount := s.kvMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/data/" + c.vars["path"])
	}
	body := c.body.(*kvWriteBody)
	if body.Data == nil {
		return fail(http.StatusBadRequest, "no data provided")
	}
	sec := mount[c.vars["path"]]
	current := 0
	if sec != nil {
		current = sec.current
	}
	if body.Options != nil && body.Options.CAS != nil {
		cas, err := jsonWhole(body.Options.CAS)
		if err != nil {
			return fail(http.StatusBadRequest, "error parsing cas: "+err.Error())
		}
		if cas != current {
			return fail(http.StatusBadRequest, "check-and-set parameter did not match the current version")
		}
	}
	if sec == nil {
		sec = &kvSecret{versions: map[int]*kvVersion{}, created: s.now}
		mount[c.vars["path"]] = sec
	}
	sec.current++
	sec.updated = s.now
	v := &kvVersion{data: body.Data, created: s.now}
	sec.versions[sec.current] = v
	return ok(&response{RequestID: randomID(), Data: kvVersionMeta(sec.current, v)})
}

func (s *Server) kvMetadata(c *call) reply {
	mount := s.kvMount(c)
	if mount == nil {
		return noRoute(c.vars["mount"] + "/metadata/" + c.vars["path"])
	}
	sec := mount[c.vars["path"]]
	if sec == nil {
		return fail(http.StatusNotFound)
	}
	versions := map[string]any{}
	for n, v := range sec.versions {
		versions[strconv.Itoa(n)] = map[string]any{
			"created_time":  v.created.UTC().Format(time.RFC3339Nano),
			"deletion_time": "",
			"destroyed":     false,
		}
	}
	return ok(&response{RequestID: randomID(), Data: map[string]any{
		"cas_required":         false,
		"created_time":         sec.created.UTC().Format(time.RFC3339Nano),
		"current_version":      sec.current,
		"custom_metadata":      nil,
		"delete_version_after": "0s",
		"max_versions":         0,
		"oldest_version":       0,
		"updated_time":         sec.updated.UTC().Format(time.RFC3339Nano),
		"versions":             versions,
	}})
}

// jsonWhole reads a whole, non-negative number given as a JSON number or a
// string, as Vault's field parser does.
func jsonWhole(v any) (int, error) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, fmt.Errorf("%v is not a number", v)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole, non-negative number", s)
	}
	return n, nil
}
